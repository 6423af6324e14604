"""Indicator maps of a simulation's latest run: the catalogue, the XYZ tiles (the GeoTIFF's
values in their colours, transparent nodata, cached), the description (bounds, zooms, range,
scale, tile URL), pixel values, and every way to ask wrongly."""

from __future__ import annotations

import json
import warnings

import morecantile
import numpy as np
import pytest
from fake_gcbm import manifest_item, run_fake_gcbm, write_manifest_items
from fastapi.testclient import TestClient
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from conftest import SMALL_ATTRIBUTES, make_settings, small_project_files, zip_bytes
from flintcloud.errors import InputError, NotFoundError
from flintcloud.gcbm.outputs import catalogue
from flintcloud.gcbm.outputs.layout import COG_FOLDER, MANIFEST, cog_name, item_unit
from flintcloud.io.geotiff import write_cog
from flintcloud.io.raster_image import palette_indices
from flintcloud.service import gcbm_engine
from flintcloud.service.app import create_app
from flintcloud.service.services import Services

NODATA = -1e38
# 3 x 4 pixels of 0.25°, west -106, north 55; two nodata pixels, one negative value
GRID = np.array([[NODATA, 1.0, 2.0, 3.0],
                 [4.0, 5.0, -2.0, 7.0],
                 [8.0, 9.0, 10.0, NODATA]], dtype=np.float32)
TRANSFORM = from_origin(-106.0, 55.0, 0.25, 0.25)
BOUNDS = [-106.0, 54.25, -105.0, 55.0]


YEARS = ["2010", "2011", "2012"]


def run_engine_with_maps(project_dir, output_dir, progress):
    """The fake engine, plus the whole-area COGs a real run writes (cog/<indicator>_<year>.tif)
    and the manifest items that declare them."""
    run_fake_gcbm(project_dir, output_dir, progress)
    for step, year in enumerate(YEARS, start=1):
        nep = np.where(GRID == NODATA, GRID, GRID * step).astype(np.float32)
        write_cog(output_dir / COG_FOLDER / cog_name("NEP", year), nep, TRANSFORM, NODATA)
        age = np.where(GRID == NODATA, GRID, np.abs(GRID) + 10 * step).astype(np.float32)
        write_cog(output_dir / COG_FOLDER / cog_name("Age", year), age, TRANSFORM, NODATA)
    (output_dir / COG_FOLDER / "notes.txt").write_text("not a map")
    secret = output_dir.parent / "secret.tif"
    write_cog(secret, GRID, TRANSFORM, NODATA)
    (output_dir / COG_FOLDER / "Secret_2010.tif").symlink_to(secret)  # never served
    mosaics = {name: {year: f"{COG_FOLDER}/{cog_name(name, year)}" for year in YEARS}
               for name in ("Age", "NEP")}
    npp = json.loads((output_dir / MANIFEST).read_text())["items"]
    write_manifest_items(output_dir, [
        *npp,
        manifest_item("Age", "years", "variable", YEARS, mosaics["Age"]),
        manifest_item("NEP", "tC/ha/yr", "fluxes", YEARS, mosaics["NEP"]),
        # a symbolic link and paths out of the run folder are never served, whatever the manifest says
        manifest_item("Secret", "tC/ha", "pools", ["2010"], {"2010": f"{COG_FOLDER}/Secret_2010.tif"}),
        manifest_item("Escape", "tC/ha", "pools", ["2010", "2011"],
                      {"2010": "../secret.tif", "2011": str(secret)})])


def run_engine_with_named_items(project_dir, output_dir, progress):
    """The fake engine, plus an item whose name has a space (block files and COGs) and an
    area-adjusted one (values per pixel, tC)."""
    run_fake_gcbm(project_dir, output_dir, progress)
    items = []
    for name, area_adjusted in (("Total Ecosystem", False), ("AG_Biomass_Area", True)):
        unit = item_unit(variable=None, is_flux=False, area_adjusted=area_adjusted,
                         subtract_previous=False)
        folder = output_dir / name / "-106_055"
        folder.mkdir(parents=True)
        for step, year in enumerate(YEARS, start=1):
            values = np.where(GRID == NODATA, GRID, GRID + 100 * step).astype(np.float32)
            write_cog(output_dir / COG_FOLDER / cog_name(name, year), values, TRANSFORM, NODATA)
            write_cog(folder / f"{name}_-106_055_7_{step}.tif", values, TRANSFORM, NODATA)
        items.append(manifest_item(name, unit, "pools", YEARS,
                                   {year: f"{COG_FOLDER}/{cog_name(name, year)}" for year in YEARS}))
    write_manifest_items(output_dir, items)


def finish_a_run(client, worker, tmp_path) -> str:
    """A simulation with one successful run of the engine patched in."""
    simulation = client.post("/simulations", json={"title": "maps"}).json()["id"]
    files = small_project_files(tmp_path / "files")
    members = {f"{category}/{path.name}": path.read_bytes()
               for category, paths in files.items() for path in paths}
    members["attributes.json"] = json.dumps(SMALL_ATTRIBUTES).encode()
    assert client.post(f"/simulations/{simulation}/files",
                       files=[("files", ("project.zip", zip_bytes(members)))]).status_code == 200
    client.patch(f"/simulations/{simulation}/config", json={"end_date": "2013-01-01"})
    assert client.post(f"/simulations/{simulation}/run").status_code == 201
    assert worker.run_once().status == "successful"
    return simulation


@pytest.fixture
def finished(client, worker, tmp_path, monkeypatch) -> str:
    """A simulation with one successful run (fake engine with maps)."""
    monkeypatch.setattr(gcbm_engine, "run_gcbm_project", run_engine_with_maps)
    return finish_a_run(client, worker, tmp_path)


@pytest.fixture
def named(client, worker, tmp_path, monkeypatch) -> str:
    """A simulation whose run wrote `Total Ecosystem` and an area-adjusted item."""
    monkeypatch.setattr(gcbm_engine, "run_gcbm_project", run_engine_with_named_items)
    return finish_a_run(client, worker, tmp_path)


def decode_png(data: bytes) -> tuple[np.ndarray, dict]:
    with warnings.catch_warnings(), MemoryFile(data) as memory:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with memory.open() as dataset:
            return dataset.read(1), dataset.colormap(1)


def test_maps_list_indicators_with_units_and_years(client, finished):
    catalogue = client.get(f"/simulations/{finished}/maps").json()
    assert catalogue["indicators"] == [
        {"indicator": "Age", "unit": "years", "kind": "variable", "years": ["2010", "2011", "2012"]},
        {"indicator": "NEP", "unit": "tC/ha/yr", "kind": "fluxes", "years": ["2010", "2011", "2012"]}]
    assert "viridis" in catalogue["ramps"] and catalogue["ramps"][0] == "auto"
    assert catalogue["basemap"] is None  # off unless the deployment sets one


def test_maps_name_the_deployments_basemap(client, services, finished, tmp_path):
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    services.settings.map_basemap_url = url
    services.settings.map_basemap_attribution = "© Example"
    assert client.get(f"/simulations/{finished}/maps").json()["basemap"] == \
        {"url": url, "attribution": "© Example"}
    with pytest.raises(ValueError, match="map_basemap_url"):
        make_settings(tmp_path, map_basemap_url="https://tiles.example.org/tile.png")


WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
Z = 8  # one tile of 256 px over 1.4° holds the whole 1° x 0.75° raster: ~45 px per raster pixel


def tile_link(info: dict) -> str:
    return next(link["href"] for link in info["links"] if link["rel"] == "tiles")


def tile_pixels(tile) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat), each (256, 256), of the centres of a tile's pixels."""
    west, south, east, north = WEB_MERCATOR.xy_bounds(tile)
    step = (east - west) / 256
    xs = west + (np.arange(256) + 0.5) * step
    ys = north - (np.arange(256) + 0.5) * step
    mx, my = np.meshgrid(xs, ys)
    radius = 6378137.0  # spherical Mercator
    return np.degrees(mx / radius), np.degrees(2 * np.arctan(np.exp(my / radius)) - np.pi / 2)


def expected_indices(grid: np.ndarray, tile, vmin: float, vmax: float) -> tuple[np.ndarray, np.ndarray]:
    """The palette index each tile pixel must have (the raster pixel under its centre; 0 outside
    the raster and for nodata), and where that is unambiguous (centre not within 1 % of a raster
    pixel's edge)."""
    lon, lat = tile_pixels(tile)
    col_f = (lon - TRANSFORM.c) / TRANSFORM.a
    row_f = (lat - TRANSFORM.f) / TRANSFORM.e
    inside = (col_f >= 0) & (col_f < grid.shape[1]) & (row_f >= 0) & (row_f < grid.shape[0])
    row = np.clip(row_f.astype(int), 0, grid.shape[0] - 1)
    col = np.clip(col_f.astype(int), 0, grid.shape[1] - 1)
    values = grid[row, col].astype(np.float64)
    valid = inside & (GRID[row, col] != GRID[0, 0])  # GRID's nodata pixels are every map's
    clear = (np.abs(col_f - np.rint(col_f)) > 0.01) & (np.abs(row_f - np.rint(row_f)) > 0.01)
    return palette_indices(values, valid, vmin, vmax), clear


def test_map_tiles_show_the_geotiffs_values_with_transparent_nodata(client, finished):
    info = client.get(f"/simulations/{finished}/maps/Age/2011").json()
    (scale_min, scale_max) = info["scale"]["min"], info["scale"]["max"]
    assert (scale_min, scale_max) == (21.0, 30.0)  # Age 2011 = |value| + 20
    tile = WEB_MERCATOR.tile(-105.5, 54.6, Z)
    url = tile_link(info).replace("{z}", str(Z)).replace("{x}", str(tile.x)).replace("{y}", str(tile.y))
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    indices, colormap = decode_png(response.content)
    assert indices.shape == (256, 256)
    age = np.where(GRID == NODATA, GRID, np.abs(GRID) + 20)
    expected, clear = expected_indices(age, tile, scale_min, scale_max)
    np.testing.assert_array_equal(indices[clear], expected[clear])
    # every raster pixel shows, in its colour (21 the first, 30 the last); nodata and the world
    # around the raster are transparent
    assert set(np.unique(indices[clear])) == set(np.unique(expected[clear])) >= {0, 1, 255}
    assert np.count_nonzero(indices) > 10 * 45 * 40
    assert colormap[0][3] == 0 and all(colormap[int(i)][3] == 255 for i in np.unique(indices) if i)


def test_map_description_gives_bounds_range_zooms_and_the_tiles_scale(client, finished):
    info = client.get(f"/simulations/{finished}/maps/NEP/2012").json()
    assert info["bounds"] == pytest.approx(BOUNDS)
    assert info["data_bounds"] == pytest.approx(BOUNDS)  # valid pixels reach every edge
    assert (info["width"], info["height"], info["crs"]) == (4, 3, "EPSG:4326")
    assert (info["min"], info["max"], info["n_valid"]) == (-6.0, 30.0, 10)
    assert info["nodata"] == pytest.approx(NODATA, rel=1e-6)
    assert info["unit"] == "tC/ha/yr"
    # values of both signs: a diverging ramp centred on 0
    assert (info["scale"]["ramp"], info["scale"]["min"], info["scale"]["max"]) == ("balance", -30.0, 30.0)
    assert info["scale"]["stops"][0] == [0.0, "#2166ac"]
    tiles = info["tiles"]
    assert tiles["bounds_wgs84"] == pytest.approx(BOUNDS)
    assert 0 <= tiles["minzoom"] <= tiles["maxzoom"] < tiles["max_display_zoom"] and tiles["size"] == 256
    # the tile URL carries the resolved scale: every tile of this map is coloured alike
    assert tile_link(info).endswith(
        f"/simulations/{finished}/maps/NEP/2012/tiles/{{z}}/{{x}}/{{y}}.png?ramp=balance&min=-30.0&max=30.0")
    age = client.get(f"/simulations/{finished}/maps/Age/2010").json()
    assert (age["scale"]["ramp"], age["scale"]["min"], age["scale"]["max"]) == ("viridis", 11.0, 20.0)


def test_map_min_and_max_fix_the_scale(client, finished):
    query = "ramp=viridis&min=0&max=20"
    info = client.get(f"/simulations/{finished}/maps/NEP/2012?{query}").json()
    assert (info["scale"]["ramp"], info["scale"]["min"], info["scale"]["max"]) == ("viridis", 0.0, 20.0)
    assert tile_link(info).endswith("/tiles/{z}/{x}/{y}.png?ramp=viridis&min=0.0&max=20.0")
    tile = WEB_MERCATOR.tile(-105.5, 54.6, Z)
    indices, _ = decode_png(client.get(
        f"/simulations/{finished}/maps/NEP/2012/tiles/{Z}/{tile.x}/{tile.y}.png?{query}").content)
    expected, clear = expected_indices(np.where(GRID == NODATA, GRID, GRID * 3), tile, 0.0, 20.0)
    np.testing.assert_array_equal(indices[clear], expected[clear])
    # NEP 2012 = 3 x GRID: 3 -> 1 + round(3/20 * 254) = 39; 30 and 21 clip to the last colour; -6 to the first
    assert {1, 39, 255} <= set(np.unique(indices))
    # the tile without the scale computes the description's scale: same picture as its link's
    auto = client.get(f"/simulations/{finished}/maps/NEP/2012/tiles/{Z}/{tile.x}/{tile.y}.png").content
    linked = client.get(tile_link(client.get(f"/simulations/{finished}/maps/NEP/2012").json())
                        .replace("{z}/{x}/{y}", f"{Z}/{tile.x}/{tile.y}")).content
    assert auto == linked != client.get(
        f"/simulations/{finished}/maps/NEP/2012/tiles/{Z}/{tile.x}/{tile.y}.png?{query}").content


def test_map_tiles_change_with_the_year_and_are_cached(client, services, finished):
    tile = WEB_MERCATOR.tile(-105.5, 54.6, Z)
    query = "ramp=viridis&min=0&max=30"
    url = f"/simulations/{finished}/maps/NEP/{{year}}/tiles/{Z}/{tile.x}/{tile.y}.png?{query}"
    cache = services.simulations.map_tiles
    first = client.get(url.format(year="2010")).content
    assert (cache.hits, cache.misses) == (0, 1)
    assert client.get(url.format(year="2010")).content == first
    assert (cache.hits, cache.misses) == (1, 1)
    assert client.get(url.format(year="2011")).content != first
    assert (cache.hits, cache.misses) == (1, 2)


def test_tiles_outside_the_map_are_transparent_and_bad_tiles_refused(client, finished):
    base = f"/simulations/{finished}/maps/NEP/2010/tiles"
    far = WEB_MERCATOR.tile(100.0, -30.0, Z)
    indices, _ = decode_png(client.get(f"{base}/{Z}/{far.x}/{far.y}.png").content)
    assert indices.shape == (256, 256) and not indices.any()
    assert client.get(f"{base}/2/4/0.png").status_code == 404  # x runs from 0 to 3 at zoom 2
    for bad in ("25/0/0", "-1/0/0", "3/a/0", "3/0/-1"):
        response = client.get(f"{base}/{bad}.png")
        assert response.status_code == 422, bad
        assert response.headers["content-type"] == "application/problem+json"


def test_map_value_reads_a_pixel_nodata_and_outside(client, finished):
    url = f"/simulations/{finished}/maps/NEP/2011/value"
    inside = client.get(url, params={"lon": -105.3, "lat": 54.6}).json()
    assert (inside["row"], inside["col"], inside["value"], inside["inside"]) == (1, 2, -4.0, True)
    assert inside["unit"] == "tC/ha/yr"
    nodata = client.get(url, params={"lon": -105.9, "lat": 54.9}).json()
    assert nodata["inside"] is True and nodata["value"] is None
    outside = client.get(url, params={"lon": -100.0, "lat": 54.9}).json()
    assert outside["inside"] is False and outside["value"] is None


@pytest.mark.parametrize("path", [
    "maps/Nope/2010/tiles/8/52/81.png", "maps/NEP/2099/tiles/8/52/81.png", "maps/NEP/2099",
    "maps/Secret/2010/tiles/8/52/81.png", "maps/Secret/2010", "maps/Escape/2010/tiles/8/52/81.png",
    "maps/Escape/2011", "maps/notes/2010/tiles/8/52/81.png", "maps/NEP_2010/tif/tiles/8/52/81.png",
    "maps/NEP/2010.tif/tiles/8/52/81.png", "maps/NEP/2010.png", "maps/NEP/..%2F..%2Fsecret/tiles/8/52/81.png",
    "maps/..%2Fcog/2010/tiles/8/52/81.png", "maps/NEP/2010/value?lon=0&lat=0x",
])
def test_unknown_or_crafted_map_names_are_404_or_422(client, finished, path):
    response = client.get(f"/simulations/{finished}/{path}")
    assert response.status_code in (404, 422), (path, response.status_code)
    assert response.headers["content-type"] == "application/problem+json"


def test_a_missing_map_names_what_exists(client, finished):
    problem = client.get(f"/simulations/{finished}/maps/NEP/1999/tiles/8/52/81.png").json()
    assert problem["status"] == 404 and "years: 2010, 2011, 2012" in problem["hint"]
    problem = client.get(f"/simulations/{finished}/maps/Nope/2010").json()
    assert "indicators: Age, NEP" in problem["hint"]


@pytest.mark.parametrize(("query", "field"), [
    ("ramp=rainbow", "query.ramp"), ("min=nan", "query.min"), ("max=inf", "query.max"),
    ("min=5&max=1", "min"),
])
def test_bad_map_parameters_are_422_naming_the_field(client, finished, query, field):
    for suffix in ("/tiles/8/52/81.png", ""):
        problem = client.get(f"/simulations/{finished}/maps/NEP/2010{suffix}?{query}")
        assert problem.status_code == 422
        assert problem.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("query", ["lon=200&lat=0", "lon=0&lat=-91", "lon=nan&lat=0", "lat=0"])
def test_bad_coordinates_are_422(client, finished, query):
    assert client.get(f"/simulations/{finished}/maps/NEP/2010/value?{query}").status_code == 422


def test_maps_before_any_run_are_404(client):
    simulation = client.post("/simulations", json={"title": "fresh"}).json()["id"]
    for path in ("maps", "maps/NEP/2010", "maps/NEP/2010/tiles/8/52/81.png",
                 "maps/NEP/2010/value?lon=0&lat=0"):
        response = client.get(f"/simulations/{simulation}/{path}")
        assert response.status_code == 404 and "no finished run" in response.json()["detail"]
    assert client.get("/simulations/not-a-uuid/maps/NEP/2010/tiles/8/52/81.png").status_code == 404


def test_maps_need_a_token_and_belong_to_their_owner(tmp_path):
    settings = make_settings(tmp_path, auth_tokens={"alice-token": "alice", "bob-token": "bob"})
    services = Services.build(settings)
    alice = {"Authorization": "Bearer alice-token"}
    bob = {"Authorization": "Bearer bob-token"}
    try:
        with TestClient(create_app(settings, services=services)) as client:
            simulation = client.post("/simulations", json={"title": "mine"}, headers=alice).json()["id"]
            for path in ("maps", "maps/NEP/2010", "maps/NEP/2010/tiles/8/52/81.png",
                 "maps/NEP/2010/value?lon=0&lat=0"):
                url = f"/simulations/{simulation}/{path}"
                assert client.get(url).status_code == 401
                assert client.get(url, headers=bob).status_code == 403
                assert client.get(url, headers=alice).status_code == 404  # no run yet
    finally:
        services.database.dispose()


def test_maps_list_an_item_whose_name_has_a_space(client, named):
    catalogue = client.get(f"/simulations/{named}/maps").json()
    assert catalogue["indicators"] == [
        {"indicator": "Total Ecosystem", "unit": "tC/ha", "kind": "pools", "years": YEARS},
        {"indicator": "AG_Biomass_Area", "unit": "tC", "kind": "pools", "years": YEARS}]
    info = client.get(f"/simulations/{named}/maps/Total%20Ecosystem/2011").json()
    assert (info["indicator"], info["unit"], info["min"], info["max"]) == \
        ("Total Ecosystem", "tC/ha", 198.0, 210.0)
    tiles = tile_link(info)
    assert "/maps/Total%20Ecosystem/2011/tiles/{z}/{x}/{y}.png?ramp=viridis&min=198.0&max=210.0" in tiles
    png = client.get(tiles.replace("{z}/{x}/{y}", "8/52/81"))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert decode_png(png.content)[0].any()
    value = client.get(f"/simulations/{named}/maps/Total%20Ecosystem/2011/value",
                       params={"lon": -105.3, "lat": 54.6}).json()
    assert (value["value"], value["unit"]) == (198.0, "tC/ha")


def test_indicator_series_of_an_item_whose_name_has_a_space(client, named):
    names = client.get(f"/simulations/{named}/indicators").json()["indicators"]
    assert names == ["Total Ecosystem", "AG_Biomass_Area"]
    series = client.get(f"/simulations/{named}/indicators/Total%20Ecosystem").json()["series"]
    assert [(s["year"], s["label"], s["unit"], s["n_pixels"], s["min"]) for s in series] == [
        (2010, "2010", "tC/ha", 10, 98.0), (2011, "2011", "tC/ha", 10, 198.0),
        (2012, "2012", "tC/ha", 10, 298.0)]


def test_an_area_adjusted_item_reports_tc_not_tc_per_ha(client, named):
    info = client.get(f"/simulations/{named}/maps/AG_Biomass_Area/2010").json()
    assert info["unit"] == "tC"
    value = client.get(f"/simulations/{named}/maps/AG_Biomass_Area/2010/value",
                       params={"lon": -105.3, "lat": 54.6}).json()
    assert value["unit"] == "tC"
    series = client.get(f"/simulations/{named}/indicators/AG_Biomass_Area").json()["series"]
    assert {s["unit"] for s in series} == {"tC"}


def test_catalogue_serves_only_the_manifests_items_inside_the_run(tmp_path):
    run = tmp_path / "run"
    (run / COG_FOLDER).mkdir(parents=True)
    write_cog(run / COG_FOLDER / cog_name("Total Ecosystem", "2010"), GRID, TRANSFORM, NODATA)
    write_cog(run / COG_FOLDER / cog_name("Unlisted", "2010"), GRID, TRANSFORM, NODATA)
    write_cog(tmp_path / "outside.tif", GRID, TRANSFORM, NODATA)
    write_manifest_items(run, [
        manifest_item("Total Ecosystem", "tC/ha", "pools", ["2010", "2011"],
                      {"2010": f"{COG_FOLDER}/Total Ecosystem_2010.tif",
                       "2011": f"{COG_FOLDER}/Total Ecosystem_2011.tif"}),  # 2011 not written
        manifest_item("Out", "tC/ha", "pools", ["2010"], {"2010": f"{COG_FOLDER}/../../outside.tif"}),
        manifest_item("NoMaps", "tC/ha/yr", "fluxes", ["2010"])])
    maps = catalogue.map_catalogue(run)
    assert list(maps) == ["Total Ecosystem"]
    assert maps["Total Ecosystem"].paths == {"2010": run.resolve() / COG_FOLDER / "Total Ecosystem_2010.tif"}
    assert maps["Total Ecosystem"].unit == "tC/ha"
    assert catalogue.indicator_names(run) == ["Total Ecosystem", "Out", "NoMaps"]


def test_catalogue_reads_the_init_step_of_an_init_item(tmp_path):
    run = tmp_path / "run"
    folder = run / "Age" / "-106_055"
    folder.mkdir(parents=True)
    write_cog(folder / "Age_-106_055_3_0.tif", GRID, TRANSFORM, NODATA)
    write_cog(folder / "Agent_-106_055_3_0.tif", GRID * 2, TRANSFORM, NODATA)  # another item's
    write_manifest_items(run, [manifest_item("Age", "years", "variable", ["init"])])
    series = catalogue.indicator_series(run, "Age")
    assert [(s["step"], s["label"], s["year"], s["unit"], s["max"]) for s in series] == \
        [(0, "init", None, "years", 10.0)]


def test_catalogue_errors_name_the_manifest(tmp_path):
    with pytest.raises(NotFoundError, match="no manifest") as missing:
        catalogue.map_catalogue(tmp_path)
    assert missing.value.source == MANIFEST
    (tmp_path / MANIFEST).write_text('{"manifest_version": 1}')
    with pytest.raises(InputError, match="no output items") as old:
        catalogue.output_items(tmp_path)
    assert old.value.source == MANIFEST
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(InputError, match="unreadable manifest"):
        catalogue.output_items(tmp_path)
    (tmp_path / MANIFEST).unlink()
    write_manifest_items(tmp_path, [{**manifest_item("NPP", "tC/ha/yr", "fluxes", ["2010"]), "unit": None}])
    with pytest.raises(InputError, match=r"items\[0\]\.unit: expected a non-empty string") as bad:
        catalogue.output_items(tmp_path)
    assert bad.value.field == "items[0].unit"
    write_manifest_items(tmp_path, [manifest_item("NPP", "tC/ha/yr", "fluxes", ["2010"])])
    with pytest.raises(NotFoundError, match="no indicator 'Nope'") as unknown:
        catalogue.indicator_series(tmp_path, "Nope")
    assert unknown.value.hint == "indicators: NPP"
