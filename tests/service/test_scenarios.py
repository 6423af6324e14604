"""Scenarios through the API: a simulation copied (inputs, settings) into a scenario that names its
baseline; two runs compared (per-year differences equal to the two annual summaries'); their maps
subtracted (difference tiles and values equal to the two GeoTIFFs'); the WMTS capabilities read
by OWSLib; and every way to ask wrongly answered with a problem document."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass

import morecantile
import numpy as np
import pytest
from fastapi.testclient import TestClient
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import xy
from sqlalchemy import create_engine, inspect, text

from conftest import (
    SMALL_ATTRIBUTES,
    make_settings,
    postgresql_database,
    small_project_files,
    zip_bytes,
)
from flintcloud.io.raster_image import palette_indices
from flintcloud.service.app import create_app
from flintcloud.service.db import Database
from flintcloud.service.services import Services
from flintcloud.service.worker import Worker

WEB_MERCATOR = morecantile.tms.get("WebMercatorQuad")
INDICATOR = "Total_Ecosystem_C"
CLEARCUT = "Clearcut harvesting with salvage"
VARIABLES_PATCH = {"Variables": {"slow_ag_to_bg_mixing_rate": 0.007}}
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
# The scenario: the 2012 fire becomes a clearcut, and the period ends in 2018, not 2020.
SCENARIO_PATCH = {"end_year": 2018, "layers": {"fire_2012": {"attributes": {"1": {
    "disturbance_type": CLEARCUT}}}}}


@dataclass
class Runs:
    client: TestClient
    services: Services
    baseline: str
    scenario: str
    other_landscape: str
    never_run: str


def _run(client: TestClient, worker: Worker, simulation: str) -> None:
    assert client.post(f"/simulations/{simulation}/run").status_code == 201
    job = worker.run_once()
    assert job.status == "successful", job.error_detail


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The demo simulation and a scenario of it, run for real; a small project on another grid,
    run; a simulation never run."""
    from tests.gcbm.inputs.conftest import cbm_defaults

    cbm_defaults()  # libcbm builds the demo's database (skips, or fails in CI, without it)
    folder = tmp_path_factory.mktemp("scenarios")
    settings = make_settings(folder)
    services = Services.build(settings)
    worker = Worker(settings, database=services.database, registry=services.registry)
    with TestClient(create_app(settings, services=services)) as client:
        baseline = client.post("/simulations/demo", json={"title": "baseline"}).json()["id"]
        # a hand edit of a GCBM file (the templates' value is 0.006), before the copy
        edited = client.patch(f"/simulations/{baseline}/config/files/variables.json",
                              content=json.dumps(VARIABLES_PATCH), headers=MERGE_PATCH)
        assert edited.status_code == 200, edited.text
        copied = client.post(f"/simulations/{baseline}/scenarios", json={"title": "no fire"})
        assert copied.status_code == 201, copied.text
        scenario = copied.json()["id"]
        patched = client.patch(f"/simulations/{scenario}/config", json=SCENARIO_PATCH)
        assert patched.status_code == 200, patched.text
        other = client.post("/simulations", json={"title": "small"}).json()["id"]
        files = small_project_files(folder / "files")
        members = {f"{category}/{path.name}": path.read_bytes()
                   for category, paths in files.items() for path in paths}
        members["attributes.json"] = json.dumps(SMALL_ATTRIBUTES).encode()
        assert client.post(f"/simulations/{other}/files", files=[
            ("files", ("small.zip", zip_bytes(members)))]).status_code == 200
        for simulation in (baseline, scenario, other):
            _run(client, worker, simulation)
        never_run = client.post("/simulations", json={"title": "never run"}).json()["id"]
        yield Runs(client, services, baseline, scenario, other, never_run)
    services.database.dispose()


# -- scenarios --------------------------------------------------------------------------------------

def test_scenario_copies_inputs_and_settings_and_names_its_baseline(runs):
    client = runs.client
    base = client.get(f"/simulations/{runs.baseline}").json()
    scenario = client.get(f"/simulations/{runs.scenario}").json()
    assert (scenario["title"], scenario["scenario_of"], base["scenario_of"]) == \
        ("no fire", runs.baseline, None)
    assert scenario["ready"] is True
    inputs = [client.get(f"/simulations/{s}/inputs").json() for s in (runs.baseline, runs.scenario)]
    assert inputs[0] == inputs[1]
    # the scenario's edit stayed in the scenario: the baseline's settings are the demo's
    configs = [client.get(f"/simulations/{s}/config").json() for s in (runs.baseline, runs.scenario)]
    assert configs[0]["end_year"] == 2020 and configs[1]["end_year"] == 2018
    fire = [config["layers"]["fire_2012"]["attributes"]["1"] for config in configs]
    assert fire[0]["disturbance_type"] == "Wildfire" and fire[1]["disturbance_type"] == CLEARCUT
    assert {k: v for k, v in configs[0].items() if k not in ("end_year", "layers")} == \
        {k: v for k, v in configs[1].items() if k not in ("end_year", "layers")}
    # the baseline's edit of a GCBM file came along
    files = client.get(f"/simulations/{runs.scenario}/config/files").json()["files"]
    assert {item["name"]: item["edit"] for item in files}["variables.json"] == "patch"
    variables = client.get(f"/simulations/{runs.scenario}/config/files/variables.json").json()
    assert variables["Variables"]["slow_ag_to_bg_mixing_rate"] == 0.007
    # copies, not links: no file of one is a file of the other
    storage = runs.services.storage
    for category in ("classifiers", "disturbances", "db"):
        for item in inputs[0][category]:
            paths = [storage.simulation_dir(s) / "inputs" / category / item["name"]
                     for s in (runs.baseline, runs.scenario)]
            assert paths[0].read_bytes() == paths[1].read_bytes()
            assert not paths[0].samefile(paths[1])


def test_scenario_titles_are_checked_and_unique(runs):
    client = runs.client
    url = f"/simulations/{runs.baseline}/scenarios"
    taken = client.post(url, json={"title": "no fire"})
    assert taken.status_code == 409 and runs.scenario in taken.json()["hint"]
    for bad in ("", "   ", "a" * 201, "line\nbreak", "bell\x07", "bidi\u202etxt"):
        problem = client.post(url, json={"title": bad})
        assert problem.status_code == 422, bad
        assert problem.headers["content-type"] == "application/problem+json"
        assert problem.json()["errors"][0]["field"] in ("title", "body.title")
    assert client.post(url, json={}).status_code == 422
    missing = client.post("/simulations/00000000-0000-4000-8000-000000000000/scenarios",
                          json={"title": "x"})
    assert missing.status_code == 404
    titles = [s["title"] for s in client.get("/simulations").json()]
    assert len(titles) == len(set(titles)) and "x" not in titles


def test_scenarios_are_durable_and_forget_a_deleted_baseline(tmp_path, client):
    created = client.post("/simulations", json={"title": "base"}).json()["id"]
    storage = client.app.state.services.storage
    secret = tmp_path / "secret.txt"
    secret.write_text("not the simulation's")
    (storage.simulation_dir(created) / "inputs" / "db" / "link.db").symlink_to(secret)
    (storage.simulation_dir(created) / "notes.txt").write_text("kept")
    copy = client.post(f"/simulations/{created}/scenarios", json={"title": "  copy  "})
    assert copy.status_code == 201, copy.text
    assert copy.headers["location"].endswith(f"/simulations/{copy.json()['id']}")
    assert copy.json()["title"] == "copy"
    copied = storage.simulation_dir(copy.json()["id"])
    assert (copied / "notes.txt").read_text() == "kept"  # every file it keeps, no link
    assert (copied / "inputs" / "db").is_dir() and not (copied / "inputs" / "db" / "link.db").exists()
    # another process on the same database sees it
    again = Services.build(client.app.state.services.settings)
    try:
        assert again.simulations.get(copy.json()["id"], owner=None).scenario_of == created
    finally:
        again.database.dispose()
    assert client.delete(f"/simulations/{created}").status_code == 204
    assert client.get(f"/simulations/{copy.json()['id']}").json()["scenario_of"] is None


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with postgresql_database() as url:
        yield url


def test_an_older_database_gets_the_scenario_column(empty_database_url):
    url = empty_database_url
    old = create_engine(url)
    with old.begin() as connection:
        connection.execute(text("CREATE TABLE simulations (id VARCHAR(36) PRIMARY KEY, "
                                "owner VARCHAR(128), title VARCHAR(200), created TIMESTAMP, "
                                "updated TIMESTAMP)"))
        connection.execute(text("INSERT INTO simulations VALUES ('0', '', 'kept', "
                                "'2030-01-01 00:00:00', '2030-01-01 00:00:00')"))
    old.dispose()
    database = Database(url)
    try:
        database.create_schema()
        database.create_schema()  # idempotent
        columns = {c["name"] for c in inspect(database.engine).get_columns("simulations")}
        assert "scenario_of" in columns
        with database.engine.connect() as connection:
            assert connection.execute(text("SELECT title, scenario_of FROM simulations")).all() \
                == [("kept", None)]
    finally:
        database.dispose()


def test_scenarios_and_comparisons_belong_to_their_owner(tmp_path):
    settings = make_settings(tmp_path, auth_tokens={"alice-token": "alice", "bob-token": "bob"})
    services = Services.build(settings)
    alice = {"Authorization": "Bearer alice-token"}
    bob = {"Authorization": "Bearer bob-token"}
    try:
        with TestClient(create_app(settings, services=services)) as client:
            mine = client.post("/simulations", json={"title": "a"}, headers=alice).json()["id"]
            theirs = client.post("/simulations", json={"title": "b"}, headers=bob).json()["id"]
            assert client.post(f"/simulations/{mine}/scenarios", json={"title": "c"}).status_code == 401
            assert client.post(f"/simulations/{mine}/scenarios", json={"title": "c"},
                               headers=bob).status_code == 403
            problem = client.get(f"/simulations/{theirs}/compare", params={"with": mine},
                                 headers=bob)
            assert problem.status_code == 403 and problem.json()["errors"][0]["field"] == "with"
            path = f"/simulations/{theirs}/maps/NPP/2010/minus/{mine}/2010"
            assert client.get(path, headers=bob).status_code == 403
            copy = client.post(f"/simulations/{mine}/scenarios", json={"title": "c"}, headers=alice)
            assert copy.status_code == 201
            assert copy.json()["id"] not in [s["id"] for s in client.get("/simulations", headers=bob).json()]
    finally:
        services.database.dispose()


# -- comparisons ------------------------------------------------------------------------------------

def test_compare_gives_both_summaries_and_their_differences(runs):
    client = runs.client
    answer = client.get(f"/simulations/{runs.scenario}/compare", params={"with": runs.baseline})
    assert answer.status_code == 200, answer.text
    compared = answer.json()
    run_years = client.get(f"/simulations/{runs.scenario}/summary").json()["years"]
    base_years = client.get(f"/simulations/{runs.baseline}/summary").json()["years"]
    assert compared["simulation"]["id"] == runs.scenario
    assert compared["baseline"] == {"id": runs.baseline, "title": "baseline",
                                    "job": client.get(f"/simulations/{runs.baseline}").json()["job"]}
    # the differences, computed here from the two annual summaries
    base_by_year = {row["year"]: row for row in base_years}
    expected = [{"year": row["year"], **{key: row[key] - base_by_year[row["year"]][key]
                                         for key in row if key != "year"}}
                for row in run_years if row["year"] in base_by_year]
    assert [row["year"] for row in expected] == list(range(2010, 2019))
    assert len(compared["differences"]) == len(expected)
    for got, want in zip(compared["differences"], expected, strict=True):
        assert got.keys() == want.keys()
        for key, value in want.items():
            assert math.isclose(got[key], value, rel_tol=1e-9, abs_tol=1e-6), (got["year"], key)
    differences = {row["year"]: row for row in compared["differences"]}
    assert all(differences[year]["total_ecosystem_tc"] == 0 for year in (2010, 2011))  # before 2012
    assert differences[2012]["total_ecosystem_tc"] != 0
    assert differences[2012][f"disturbed_area_ha[{CLEARCUT}]"] > 0
    assert [row["year"] for row in compared["run"]] == [row["year"] for row in run_years]
    assert [row["year"] for row in compared["baseline_years"]] == list(range(2010, 2021))
    assert compared["indicators"] == [key for key in run_years[0] if key != "year"]
    # what differs in the manifests: the settings the scenario changed, the same versions
    manifest = compared["manifest"]
    keys = {change["key"] for change in manifest["settings"]}
    assert "merged.LocalDomain.end_date" in keys
    end = next(c for c in manifest["settings"] if c["key"] == "merged.LocalDomain.end_date")
    assert (end["baseline"], end["run"]) == ("2021/01/01", "2019/01/01")
    assert manifest["versions"] == []
    assert any("fire_2012" in path for path in manifest["inputs"]["changed"])


def test_compare_refuses_what_cannot_be_compared(runs):
    client = runs.client
    url = f"/simulations/{runs.scenario}/compare"
    cases = [({"with": "00000000-0000-4000-8000-000000000000"}, 404, "with"),
             ({"with": "not-an-id"}, 404, "with"),
             ({"with": runs.never_run}, 404, None),
             ({"with": runs.other_landscape}, 422, "with"),
             ({}, 422, "query.with")]
    for params, status, field in cases:
        problem = client.get(url, params=params)
        assert problem.status_code == status, (params, problem.text)
        assert problem.headers["content-type"] == "application/problem+json"
        if field:
            assert problem.json()["errors"][0]["field"] == field
    landscape = client.get(url, params={"with": runs.other_landscape}).json()
    assert "another landscape" in landscape["detail"] and "'small'" in landscape["detail"]
    assert "/" not in landscape["detail"].split("landscape")[0]  # no server path
    never = client.get(url, params={"with": runs.never_run}).json()
    assert "'never run' has no finished run" in never["detail"]
    assert client.get(f"/simulations/{runs.never_run}/compare",
                      params={"with": runs.baseline}).status_code == 404


def test_compare_refuses_runs_on_other_gcbm_tiles_naming_no_server_path(runs):
    """The check `flintcloud report` makes (repro.compare): other tiles in the manifest."""
    services = runs.services
    _, output = services.simulations.output_dir(services.simulations.get(runs.other_landscape,
                                                                         owner=None))
    manifest = output / "manifest.json"
    original = manifest.read_text()
    document = json.loads(original)
    document["configuration"]["merged"]["LocalDomain"]["landscape"]["tiles"][0]["x"] = -107
    try:
        manifest.write_text(json.dumps(document))
        problem = runs.client.get(f"/simulations/{runs.scenario}/compare",
                                  params={"with": runs.other_landscape})
    finally:
        manifest.write_text(original)
    assert problem.status_code == 422
    body = problem.json()
    assert body["detail"].startswith("with: simulation 'small': the baseline is a run of "
                                     "another landscape (tiles or pixel grid differ)")
    assert str(output.parent) not in problem.text and body["errors"][0]["field"] == "with"


# -- difference maps --------------------------------------------------------------------------------

def _cog(client: TestClient, simulation: str, year: str) -> tuple[np.ndarray, np.ndarray, object]:
    """(values, is_valid, transform) of the run's COG of INDICATOR in `year`, read by rasterio."""
    response = client.get(f"/simulations/{simulation}/outputs/cog/{INDICATOR}_{year}.tif")
    assert response.status_code == 200
    with MemoryFile(response.content) as memory, memory.open() as raster:
        values = raster.read(1, masked=True)
        return (np.ma.getdata(values).astype(np.float64), ~np.ma.getmaskarray(values),
                raster.transform)


def _tile_index_at(png: bytes, tile, lon: float, lat: float) -> int:
    with warnings.catch_warnings(), MemoryFile(png) as memory:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with memory.open() as dataset:
            indices = dataset.read(1)
    west, _, east, north = WEB_MERCATOR.xy_bounds(tile)
    x, y = WEB_MERCATOR.xy(lon, lat)
    size = (east - west) / 256
    return int(indices[int((north - y) // size), int((x - west) // size)])


@pytest.mark.parametrize("pair", ["two runs", "two years"])
def test_difference_tiles_and_values_are_the_geotiffs_difference(runs, pair):
    client = runs.client
    if pair == "two runs":
        first, year, second, other_year = runs.scenario, "2016", runs.baseline, "2016"
    else:
        first, year, second, other_year = runs.baseline, "2016", runs.baseline, "2011"
    a, a_valid, transform = _cog(client, first, year)
    b, b_valid, _ = _cog(client, second, other_year)
    is_valid = a_valid & b_valid
    difference = np.where(is_valid, a - b, 0.0)
    assert np.abs(difference).max() > 0
    path = f"/simulations/{first}/maps/{INDICATOR}/{year}/minus/{second}/{other_year}"
    info = client.get(path)
    assert info.status_code == 200, info.text
    info = info.json()
    extent = float(np.abs(difference[is_valid]).max())
    assert info["unit"] == "tC/ha" and info["scale"]["ramp"] == "balance"
    assert (info["scale"]["min"], info["scale"]["max"]) == pytest.approx((-extent, extent))
    assert (info["min"], info["max"]) == pytest.approx(
        (difference[is_valid].min(), difference[is_valid].max()))
    # the pixels of the largest and of the smallest change
    smallest = np.where(is_valid, np.abs(difference), np.inf)
    for row, col in (np.unravel_index(np.argmax(np.abs(difference)), difference.shape),
                     np.unravel_index(np.argmin(smallest), difference.shape)):
        lon, lat = xy(transform, row, col)  # its centre
        value = client.get(f"{path}/value", params={"lon": lon, "lat": lat}).json()
        assert (value["row"], value["col"]) == (row, col)
        assert value["value"] == difference[row, col]
        assert (value["minuend"], value["subtrahend"]) == (a[row, col], b[row, col])
        z = info["tiles"]["max_display_zoom"]  # a raster pixel spans several tile pixels
        tile = WEB_MERCATOR.tile(lon, lat, z)
        link = next(link["href"] for link in info["links"] if link["rel"] == "tiles")
        png = client.get(link.replace("{z}", str(z)).replace("{x}", str(tile.x))
                         .replace("{y}", str(tile.y)))
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        expected = palette_indices(np.array([[difference[row, col]]]), np.array([[True]]),
                                   -extent, extent)[0, 0]
        assert _tile_index_at(png.content, tile, lon, lat) == expected
    if pair == "two runs":
        assert difference[row, col] == 0 and expected == 128  # no change: the middle (white)


def test_difference_tiles_are_cached_by_both_runs_and_years(runs):
    client = runs.client
    cache = runs.services.scenarios.difference_tiles
    base = f"/simulations/{runs.scenario}/maps/{INDICATOR}/2016/minus/{runs.baseline}"
    info = client.get(f"{base}/2016").json()
    west, south, east, north = info["data_bounds"]
    tile = WEB_MERCATOR.tile((west + east) / 2, (south + north) / 2, 12)
    url = f"{base}/{{year}}/tiles/12/{tile.x}/{tile.y}.png?max=50"
    hits, misses = cache.hits, cache.misses
    first = client.get(url.format(year="2016")).content
    assert (cache.hits, cache.misses) == (hits, misses + 1)
    assert client.get(url.format(year="2016")).content == first
    assert (cache.hits, cache.misses) == (hits + 1, misses + 1)
    assert client.get(url.format(year="2013")).content != first
    assert (cache.hits, cache.misses) == (hits + 1, misses + 2)


def test_bad_difference_maps_are_problem_documents(runs):
    client = runs.client
    maps = f"/simulations/{runs.baseline}/maps/{INDICATOR}"
    cases = [
        (f"{maps}/2016/minus/{runs.baseline}/2016", 422, "other_year"),  # itself
        (f"{maps}/2099/minus/{runs.scenario}/2016", 404, "year"),
        (f"{maps}/2019/minus/{runs.scenario}/2019", 404, "year"),  # the scenario ends in 2018
        (f"{maps}/2016/minus/{runs.never_run}/2016", 404, None),
        (f"{maps}/2016/minus/nope/2016", 404, "other"),
        (f"{maps}/2016/minus/{runs.scenario}/2016?max=-1", 422, "query.max"),
        (f"{maps}/2016/minus/{runs.scenario}/2016?max=nan", 422, "query.max"),
        (f"{maps}/2016/minus/{runs.scenario}/2016/value?lon=200&lat=0", 422, "query.lon"),
        (f"{maps}/2016/minus/{runs.scenario}/2016/tiles/2/4/0.png", 404, "x"),
        (f"{maps}/2016/minus/{runs.scenario}/..%2F2016/tiles/2/1/1.png", 404, None),
    ]
    for path, status, field in cases:
        problem = client.get(path)
        assert problem.status_code == status, (path, problem.text)
        assert problem.headers["content-type"] == "application/problem+json"
        if field:
            assert problem.json().get("errors", [{}])[0].get("field") == field, (path, problem.text)


def test_maps_of_other_grids_cannot_be_subtracted(runs, tmp_path):
    """Two runs of other landscapes with the same item: a 422 naming both grids."""
    client = runs.client
    other = client.get(f"/simulations/{runs.other_landscape}/maps").json()["indicators"]
    shared = {item["indicator"] for item in other} & {
        item["indicator"] for item in client.get(f"/simulations/{runs.baseline}/maps").json()["indicators"]}
    assert shared, "the small project writes some of the demo's maps"
    name = sorted(shared)[0]
    problem = client.get(f"/simulations/{runs.baseline}/maps/{name}/2011/minus/"
                         f"{runs.other_landscape}/2011")
    assert problem.status_code == 422
    assert "other grids" in problem.json()["detail"]
    assert problem.json()["errors"][0]["field"] == "with"


# -- WMTS -------------------------------------------------------------------------------------------

def test_wmts_capabilities_list_every_map_and_its_tiles(runs):
    from owslib.wmts import WebMapTileService

    client = runs.client
    url = f"http://testserver/simulations/{runs.baseline}/maps/WMTSCapabilities.xml"
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"] == "application/xml"
    service = WebMapTileService(url, xml=response.content)
    assert service.identification.type == "OGC WMTS" and service.version == "1.0.0"
    catalogue = client.get(f"/simulations/{runs.baseline}/maps").json()["indicators"]
    expected = {f"{item['indicator']}.{year}" for item in catalogue for year in item["years"]}
    assert set(service.contents) == expected and len(expected) > 100
    matrix_set = service.tilematrixsets["GoogleMapsCompatible"]
    assert matrix_set.crs == "urn:ogc:def:crs:EPSG::3857"
    zero = matrix_set.tilematrix["0"]
    assert zero.scaledenominator == pytest.approx(559082264.0287178)
    assert zero.topleftcorner == pytest.approx((-20037508.342789244, 20037508.342789244))
    assert (zero.matrixwidth, matrix_set.tilematrix["12"].matrixwidth) == (1, 4096)
    layer = service.contents[f"{INDICATOR}.2012"]
    assert layer.title == f"{INDICATOR} 2012 (tC/ha)"
    info = client.get(f"/simulations/{runs.baseline}/maps/{INDICATOR}/2012").json()
    assert layer.boundingBoxWGS84 == pytest.approx(tuple(info["tiles"]["bounds_wgs84"]))
    assert list(layer.tilematrixsetlinks) == ["GoogleMapsCompatible"]
    (resource,) = layer.resourceURLs
    assert resource["resourceType"] == "tile" and resource["format"] == "image/png"
    # the template filled in is the XYZ tile the map's description links to (same scale)
    west, south, east, north = info["data_bounds"]
    tile = WEB_MERCATOR.tile((west + east) / 2, (south + north) / 2, 13)
    filled = resource["template"].replace("{TileMatrix}", "13").replace(
        "{TileCol}", str(tile.x)).replace("{TileRow}", str(tile.y))
    xyz = next(link["href"] for link in info["links"] if link["rel"] == "tiles")
    xyz = xyz.replace("{z}", "13").replace("{x}", str(tile.x)).replace("{y}", str(tile.y))
    assert client.get(filled).content == client.get(xyz).content
    assert client.get(f"/simulations/{runs.never_run}/maps/WMTSCapabilities.xml").status_code == 404
