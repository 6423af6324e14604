"""Indicator maps of a simulation's latest run: the catalogue, the PNG (size, colours, transparent
nodata), its description (bounds, range, scale), pixel values, and every way to ask wrongly."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from fastapi.testclient import TestClient
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from conftest import SMALL_ATTRIBUTES, make_settings, small_project_files, zip_bytes
from flintcloud.io.geotiff import write_cog
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


def run_engine_with_maps(project_dir, output_dir, progress):
    """The fake engine, plus the whole-area COGs a real run writes (cog/<indicator>_<year>.tif)."""
    from fake_gcbm import run_fake_gcbm

    run_fake_gcbm(project_dir, output_dir, progress)
    for step, year in enumerate((2010, 2011, 2012), start=1):
        nep = np.where(GRID == NODATA, GRID, GRID * step).astype(np.float32)
        write_cog(output_dir / "cog" / f"NEP_{year}.tif", nep, TRANSFORM, NODATA)
        age = np.where(GRID == NODATA, GRID, np.abs(GRID) + 10 * step).astype(np.float32)
        write_cog(output_dir / "cog" / f"Age_{year}.tif", age, TRANSFORM, NODATA)
    (output_dir / "cog" / "notes.txt").write_text("not a map")
    secret = output_dir.parent / "secret.tif"
    write_cog(secret, GRID, TRANSFORM, NODATA)
    (output_dir / "cog" / "Secret_2010.tif").symlink_to(secret)  # never served


@pytest.fixture
def finished(client, worker, tmp_path, monkeypatch) -> str:
    """A simulation with one successful run (fake engine with maps)."""
    monkeypatch.setattr(gcbm_engine, "run_gcbm_project", run_engine_with_maps)
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


def decode_png(data: bytes) -> tuple[np.ndarray, dict]:
    with warnings.catch_warnings(), MemoryFile(data) as memory:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with memory.open() as dataset:
            return dataset.read(1), dataset.colormap(1)


def test_maps_list_indicators_with_units_and_years(client, finished):
    catalogue = client.get(f"/simulations/{finished}/maps").json()
    assert catalogue["indicators"] == [
        {"indicator": "Age", "unit": "years", "years": ["2010", "2011", "2012"]},
        {"indicator": "NEP", "unit": "tC/ha/yr", "years": ["2010", "2011", "2012"]}]
    assert "viridis" in catalogue["ramps"] and catalogue["ramps"][0] == "auto"


def test_map_png_has_the_raster_size_and_transparent_nodata(client, finished):
    response = client.get(f"/simulations/{finished}/maps/Age/2011.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    indices, colormap = decode_png(response.content)
    assert indices.shape == GRID.shape
    is_nodata = GRID == NODATA
    assert (indices[is_nodata] == 0).all() and (indices[~is_nodata] > 0).all()
    assert colormap[0][3] == 0 and all(colormap[int(i)][3] == 255 for i in indices[~is_nodata])
    # Age 2011 = |value| + 20: from 21 to 30, so 21 gets the first colour and 30 the last
    assert indices[0, 1] == 1 and indices[2, 2] == 255


def test_map_description_gives_bounds_range_and_the_pngs_scale(client, finished):
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
    image = next(link["href"] for link in info["links"] if link["rel"] == "image")
    assert image.endswith(f"/simulations/{finished}/maps/NEP/2012.png?ramp=auto")
    age = client.get(f"/simulations/{finished}/maps/Age/2010").json()
    assert (age["scale"]["ramp"], age["scale"]["min"], age["scale"]["max"]) == ("viridis", 11.0, 20.0)


def test_map_min_and_max_fix_the_scale(client, finished):
    query = "ramp=viridis&min=0&max=20"
    info = client.get(f"/simulations/{finished}/maps/NEP/2012?{query}").json()
    assert (info["scale"]["ramp"], info["scale"]["min"], info["scale"]["max"]) == ("viridis", 0.0, 20.0)
    image = next(link["href"] for link in info["links"] if link["rel"] == "image")
    assert image.endswith("2012.png?ramp=viridis&min=0.0&max=20.0")
    indices, _ = decode_png(client.get(f"/simulations/{finished}/maps/NEP/2012.png?{query}").content)
    # NEP 2012 = 3 x GRID: 3 -> 1 + round(3/20 * 254) = 39; 30 and 21 clip to the last colour; -6 to the first
    assert indices[0, 1] == 39 and indices[2, 2] == 255 and indices[1, 2] == 1


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
    "maps/Nope/2010.png", "maps/NEP/2099.png", "maps/NEP/2099", "maps/Secret/2010.png",
    "maps/Secret/2010", "maps/notes/2010.png", "maps/NEP_2010/tif.png", "maps/NEP/2010.tif.png",
    "maps/NEP/..%2F..%2Fsecret.png", "maps/..%2Fcog/2010.png", "maps/NEP/2010/value?lon=0&lat=0x",
])
def test_unknown_or_crafted_map_names_are_404_or_422(client, finished, path):
    response = client.get(f"/simulations/{finished}/{path}")
    assert response.status_code in (404, 422), (path, response.status_code)
    assert response.headers["content-type"] == "application/problem+json"


def test_a_missing_map_names_what_exists(client, finished):
    problem = client.get(f"/simulations/{finished}/maps/NEP/1999.png").json()
    assert problem["status"] == 404 and "years: 2010, 2011, 2012" in problem["hint"]
    problem = client.get(f"/simulations/{finished}/maps/Nope/2010").json()
    assert "indicators: Age, NEP" in problem["hint"]


@pytest.mark.parametrize(("query", "field"), [
    ("ramp=rainbow", "query.ramp"), ("min=nan", "query.min"), ("max=inf", "query.max"),
    ("min=5&max=1", "min"),
])
def test_bad_map_parameters_are_422_naming_the_field(client, finished, query, field):
    for suffix in (".png", ""):
        problem = client.get(f"/simulations/{finished}/maps/NEP/2010{suffix}?{query}")
        assert problem.status_code == 422
        assert problem.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("query", ["lon=200&lat=0", "lon=0&lat=-91", "lon=nan&lat=0", "lat=0"])
def test_bad_coordinates_are_422(client, finished, query):
    assert client.get(f"/simulations/{finished}/maps/NEP/2010/value?{query}").status_code == 422


def test_maps_before_any_run_are_404(client):
    simulation = client.post("/simulations", json={"title": "fresh"}).json()["id"]
    for path in ("maps", "maps/NEP/2010", "maps/NEP/2010.png", "maps/NEP/2010/value?lon=0&lat=0"):
        response = client.get(f"/simulations/{simulation}/{path}")
        assert response.status_code == 404 and "no finished run" in response.json()["detail"]
    assert client.get("/simulations/not-a-uuid/maps/NEP/2010.png").status_code == 404


def test_maps_need_a_token_and_belong_to_their_owner(tmp_path):
    settings = make_settings(tmp_path, auth_tokens={"alice-token": "alice", "bob-token": "bob"})
    services = Services.build(settings)
    alice = {"Authorization": "Bearer alice-token"}
    bob = {"Authorization": "Bearer bob-token"}
    try:
        with TestClient(create_app(settings, services=services)) as client:
            simulation = client.post("/simulations", json={"title": "mine"}, headers=alice).json()["id"]
            for path in ("maps", "maps/NEP/2010", "maps/NEP/2010.png", "maps/NEP/2010/value?lon=0&lat=0"):
                url = f"/simulations/{simulation}/{path}"
                assert client.get(url).status_code == 401
                assert client.get(url, headers=bob).status_code == 403
                assert client.get(url, headers=alice).status_code == 404  # no run yet
    finally:
        services.database.dispose()
