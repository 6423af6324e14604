"""Upstream FLINT.Cloud's endpoints through the in-process test client.

The GCBM flow runs upstream's demo upload (`shared/data/gcbm-demo/gcbm-upload-demo.zip`) up to
the engine: once the GCBM engine is merged, `test_upstream_gcbm_demo_flow` only needs the fake
engine swapped for the real one and a comparison with the reference outputs.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import zipfile

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import SMALL_ATTRIBUTES, make_input_db, multipart, small_project_files
from flintcloud.errors import ParameterDbError
from flintcloud.service import gcbm_engine
from tests.conftest import shared_path

REFERENCE = "data/flint-examples/reference"


def without_clock(text: str) -> list[str]:
    """The CSV lines apart from Started:/Finished:, the only ones a rerun may change."""
    return [line for line in text.splitlines() if not line.startswith(("Started:", "Finished:"))]


def test_root_check_version_help(client):
    assert client.get("/", headers={"Accept": "text/plain"}).text == "FLINT.Cloud API"
    assert client.get("/check").text == "Checks OK"
    assert client.post("/check").text == "Checks OK"
    version = client.get("/version").json()["data"]
    assert version["exitCode"] == 0 and "flintcloud" in version["response"]
    assert isinstance(version["execTime"], float)
    help_all = client.get("/help/all").json()["data"]
    assert help_all["exitCode"] == 0 and "--help-section" in help_all["response"]
    unknown = client.get("/help/arg")
    assert unknown.status_code == 200  # as upstream, even for an unknown section
    assert unknown.json()["data"]["response"] == "Unknown section 'arg' in the --help-section option\n"
    assert unknown.json()["data"]["exitCode"] == 1
    assert client.get("/swagger", follow_redirects=False).headers["location"] == "/docs"


@pytest.mark.parametrize(("path", "reference"), [("/point", "default_point_output.csv"),
                                                  ("/rothc", "default_point_rothc_output.csv")])
def test_point_and_rothc_return_the_reference_csv(client, background_worker, path, reference):
    expected = shared_path(REFERENCE, reference).read_text()
    response = client.post(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment")
    assert without_clock(response.text) == without_clock(expected)


def test_point_accepts_a_posted_configuration(client, background_worker):
    from flintcloud.models.example.defaults import point_config

    document = point_config()[0][1]
    document["LocalDomain"]["end_date"] = "1921/01/01"
    response = client.post("/point", content=json.dumps(document))
    assert response.status_code == 200
    assert len(without_clock(response.text)) < len(without_clock(client.post("/point").text))


def test_point_with_malformed_json_is_422_naming_the_position(client):
    response = client.post("/point", content="{not json")
    assert response.status_code == 422
    assert "line 1 column 2" in response.json()["detail"]


def test_new_and_upload_title_messages(client):
    assert client.post("/gcbm/new", data={"title": "run 4!"}).json()["data"].startswith("New simulation")
    again = client.post("/gcbm/new", data={"title": "run4"}).json()["data"]
    assert again.startswith("Simulation already exists")
    titled = client.post("/upload/title", data={"title": "other"}).json()["data"]
    assert titled.startswith("New other simulation started")  # upstream forgot the f-string
    assert client.get("/gcbm/list").json()["data"] == ["run4", "other"]


def test_upload_without_files_is_400_missing_configuration_file(client):
    response = client.post("/gcbm/upload", data={"title": "run4"})
    assert response.status_code == 400
    assert response.json()["error"] == "Missing configuration file"  # what upstream's tests read
    assert client.post("/gcbm/upload/classifiers", data={"title": "run4"}).json()["error"] == \
        "Missing classifiers file"


def test_small_project_upload_tables_rename_and_config(client, tmp_path):
    files = small_project_files(tmp_path / "upload")
    response = client.post("/gcbm/upload", data={"title": "small",
                                                  "attributes": json.dumps(SMALL_ATTRIBUTES)},
                           files=multipart(files))
    assert response.status_code == 200, response.text
    assert response.json()["data"].startswith("All files uploaded")
    tables = client.post("/upload/db/tables", data={"title": "small"}).json()
    assert tables["extra_table"] == ["id", "label"]
    assert client.post("/gcbm/table/rename", data={"title": "small", "previous": "extra_table",
                                                   "new": "renamed_table"}).json() == {"status": 1}
    body = {"simulation_name": "small", "tables": {"renamed_table": {"label": "title"}}}
    renamed = client.post("/config", json=body).json()
    assert renamed == {"status": 1, "response": {"renamed_table": {
        "schema_before": ["id", "label"], "schema_after": ["id", "title"]}}}
    layer = client.post("/gcbm/getConfig", data={"title": "small",
                                                 "file_name": "Classifier1_moja"}).json()["data"]
    assert layer["attributes"] == {"1": "TA", "2": "BP"}
    domain = client.post("/gcbm/getConfig", data={"title": "small", "file_name": "localdomain"})
    assert domain.json()["data"]["LocalDomain"]["landscape"]["tiles"] == [
        {"x": -106.0, "y": 55.0, "index": 12674}]
    missing = client.post("/gcbm/getConfig", data={"title": "small", "file_name": "../../etc/passwd"})
    assert missing.status_code == 404


def test_attributes_field_may_be_an_attributes_file_in_yaml(client, tmp_path):
    """The attributes file of `flintcloud gcbm prepare --attributes` (docs/gcbm-inputs.md §3)."""
    attributes = yaml.safe_dump({"end_year": 2014, "spinup": {"minimum_rotation": 20},
                                 "admin_boundary": "British Columbia",
                                 "eco_boundary": "Taiga Plains", "layers": {
        "Classifier1": {"attributes": {1: "TA", 2: "BP"}}, "Classifier2": {"attributes": {1: "5"}},
        "disturbances_2012": {"attributes": {1: "Wildfire"}}}})
    response = client.post("/gcbm/upload", data={"title": "yaml", "attributes": attributes},
                           files=multipart(small_project_files(tmp_path)))
    assert response.status_code == 200, response.text

    def config(name: str) -> dict:
        return client.post("/gcbm/getConfig", data={"title": "yaml", "file_name": name}).json()["data"]

    assert config("disturbances_2012_moja")["attributes"] == {
        "1": {"disturbance_type": "Wildfire", "year": 2012}}  # the year from the file name
    assert config("localdomain")["LocalDomain"]["end_date"] == "2015/01/01"
    assert config("spinup")["SpinupVariables"]["minimum_rotation"] == 20


def test_status_and_download_tell_the_truth(client, worker, tmp_path, monkeypatch):
    client.post("/gcbm/upload", data={"title": "small", "attributes": json.dumps(SMALL_ATTRIBUTES)},
                files=multipart(small_project_files(tmp_path / "upload")))
    assert client.post("/gcbm/status", data={"title": "small"}).json()["status"] == "not_started"
    assert client.post("/gcbm/status", data={"title": "nosuch"}).status_code == 404

    started = client.post("/gcbm/dynamic", data={"title": "small"})
    assert started.status_code == 200 and started.json()["status"] == "Run started"
    assert client.post("/gcbm/dynamic", data={"title": "small"}).status_code == 409  # one at a time
    assert client.post("/gcbm/status", data={"title": "small"}).json()["finished"] == "In Progress"
    assert client.post("/gcbm/download", data={"title": "small"}).status_code == 409

    def failing_engine(project_dir, output_dir, progress):
        raise ParameterDbError("no decay parameters for spatial unit 17", source="gcbm_input.db")

    monkeypatch.setattr(gcbm_engine, "run_gcbm_project", failing_engine)
    worker.run_once()  # the run fails: status says so, with the engine's error
    status = client.post("/gcbm/status", data={"title": "small"}).json()
    assert status["status"] == "failed" and status["finished"].startswith("Failed: gcbm_input.db")
    assert status["error"]["code"] == "invalid_parameters"
    assert client.post("/gcbm/download", data={"title": "small"}).status_code == 409

    from fake_gcbm import run_fake_gcbm

    monkeypatch.setattr(gcbm_engine, "run_gcbm_project", run_fake_gcbm)
    client.post("/gcbm/dynamic", data={"title": "small"})
    worker.run_once()
    status = client.post("/gcbm/status", data={"title": "small"}).json()
    assert status["finished"] == "Output is ready to download at gcbm/download"
    download = client.post("/gcbm/download", data={"title": "small"})
    assert download.status_code == 200
    assert 'filename="small.zip"' in download.headers["content-disposition"]
    assert "gcbm_output.db" in zipfile.ZipFile(io.BytesIO(download.content)).namelist()


def _demo_upload(tmp_path) -> dict[str, list]:
    folder = tmp_path / "demo"
    with zipfile.ZipFile(shared_path("data/gcbm-demo/gcbm-upload-demo.zip")) as archive:
        archive.extractall(folder)
    root = folder / "GCBM_New_Demo_Run"
    return {category: sorted((root / category).iterdir())
            for category in ("disturbances", "classifiers", "miscellaneous", "db")}


def _reference_project() -> dict[str, dict]:
    with zipfile.ZipFile(shared_path("data/gcbm-demo/gcbm-project-demo.zip")) as archive:
        return {name: json.loads(archive.read(name)) for name in archive.namelist()
                if name.endswith(".json")}


def test_upstream_gcbm_demo_flow(client, worker, tmp_path):
    """new -> upload the demo's files -> dynamic -> status -> download, as upstream's tests,
    curl docs and FLINT-UI send them (no attribute tables): the demo's rasters are recognised by
    content, their tables used (the job log says so), and the project and results equal the
    reference."""
    reference = _reference_project()
    assert client.post("/gcbm/new", data={"title": "run4"}).status_code == 200
    upload = client.post("/gcbm/upload", data={"title": "run4"}, files=multipart(_demo_upload(tmp_path)))
    assert upload.status_code == 200, upload.text

    for name, expected in reference.items():  # every layer JSON equals the reference project's
        if name.startswith("layers/tiled/") and "bounding_box" not in name:
            layer = name.split("/")[-1][:-5]
            got = client.post("/gcbm/getConfig", data={"title": "run4", "file_name": layer}).json()["data"]
            assert got == expected, name
    domain = client.post("/gcbm/getConfig", data={"title": "run4", "file_name": "localdomain"}).json()["data"]
    assert domain == reference["config/localdomain.json"]
    provider = client.post("/gcbm/getConfig", data={"title": "run4", "file_name": "provider_config"}).json()["data"]
    expected_provider = reference["config/provider_config.json"]["Providers"]
    assert {layer["name"] for layer in provider["Providers"]["RasterTiled"]["layers"]} == \
        {layer["name"] for layer in expected_provider["RasterTiled"]["layers"]}
    modules = client.post("/gcbm/getConfig", data={"title": "run4", "file_name": "modules_cbm"}).json()["data"]
    assert sorted(modules["Modules"]["CBMDisturbanceListener"]["settings"]["vars"]) == \
        sorted(reference["config/modules_cbm.json"]["Modules"]["CBMDisturbanceListener"]["settings"]["vars"])

    started = client.post("/gcbm/dynamic", data={"title": "run4"})
    assert started.status_code == 200, started.text
    job = worker.run_once()
    assert job.status == "successful", job.error_detail
    log = client.get(f"/jobs/{job.id}/logs").json()["lines"]
    assert any("recognised upstream FLINT.Cloud's demo rasters by content (sha256); used the "
               "demo's attribute tables for Classifier1, Classifier2, disturbances_2011" in line
               for line in log), log
    assert any("start_year 2010, end_year 2020, admin_boundary British Columbia" in line
               for line in log), log
    project = worker.storage.job_results_dir(job.id) / "inputs" / "project"
    assert (project / "input_database" / "gcbm_input.db").is_file()
    assert (project / "layers" / "tiled" / "Classifier1.tiff").is_file()
    status = client.post("/gcbm/status", data={"title": "run4"}).json()
    assert status["status"] == "successful" and status["problems"] == []
    download = client.post("/gcbm/download", data={"title": "run4"})
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    assert_reference_results(archive)
    # the served manifest: paths relative to the run, no server command line or kernel string
    text = archive.read(next(n for n in archive.namelist() if n.endswith("manifest.json"))).decode()
    manifest = json.loads(text)
    assert str(worker.storage.root) not in text and "/tmp" not in text
    assert manifest["source"] == "inputs/project"
    assert "command" not in manifest and "platform" not in manifest["environment"]
    assert manifest["inputs"] and all(set(entry) >= {"path", "sha256"} for entry in manifest["inputs"])
    assert manifest["items"]


def test_demo_tables_are_the_reference_projects():
    """The tables the service knows for the demo's rasters are those of upstream's complete
    demo project, and each hash is the raster's in upstream's upload demo."""
    from conftest import demo_attributes
    from flintcloud.gcbm.inputs.upstream_demo import DEMO_RASTERS

    assert {name: table for name, _, table in DEMO_RASTERS.values()} == demo_attributes()
    with zipfile.ZipFile(shared_path("data/gcbm-demo/gcbm-upload-demo.zip")) as archive:
        hashes = {hashlib.sha256(archive.read(name)).hexdigest() for name in archive.namelist()
                  if name.endswith(".tiff")}
    assert set(DEMO_RASTERS) <= hashes


def test_demo_tables_only_for_the_demos_rasters_and_given_tables_win(client, worker, tmp_path):
    """A given table is kept over the demo's; other rasters still need tables: the 422 names
    the `attributes` field, and /gcbm/status says why the start was refused."""
    files = _demo_upload(tmp_path)
    files["classifiers"] = files["classifiers"][:1]  # Classifier1 only: Classifier2 is ours
    other = small_project_files(tmp_path / "small")["classifiers"][1]  # not a demo raster
    client.post("/gcbm/upload", data={"title": "mixed"}, files=multipart(files))
    client.post("/gcbm/upload/classifiers", data={"title": "mixed", "attributes": "{}"},
                files=multipart({"classifiers": [other]}))
    refused = client.post("/gcbm/dynamic", data={"title": "mixed"})
    assert refused.status_code == 422
    assert "`attributes` field of an upload" in refused.json()["detail"]
    assert any(e["field"] == "attributes" and "Classifier2" in e["message"]
               for e in refused.json()["errors"])
    status = client.post("/gcbm/status", data={"title": "mixed"}).json()
    assert status["status"] == "not_started"
    assert "Classifier2" in status["finished"] and "`attributes` field" in status["finished"]
    assert status["problems"] == refused.json()["errors"]


def test_bare_table_of_a_single_file_upload_applies_to_that_file(client, tmp_path):
    files = small_project_files(tmp_path)
    client.post("/gcbm/upload", data={"title": "bare", "attributes": json.dumps(SMALL_ATTRIBUTES)},
                files=multipart(files))
    bare = client.post("/gcbm/upload/classifiers", files=multipart({"classifiers": files["classifiers"][:1]}),
                       data={"title": "bare", "attributes": json.dumps({"1": "BP", "2": "TA"})})
    assert bare.status_code == 200, bare.text
    layer = client.post("/gcbm/getConfig", data={"title": "bare", "file_name": "Classifier1"})
    assert layer.json()["data"]["attributes"] == {"1": "BP", "2": "TA"}
    several = client.post("/gcbm/upload/classifiers", files=multipart({"classifiers": files["classifiers"]}),
                          data={"title": "bare", "attributes": "1: BP"})
    assert several.status_code == 422
    assert several.json()["errors"][0]["field"] == "attributes"
    assert "applies to one raster; this upload has 2" in several.json()["detail"]


def assert_reference_results(archive: zipfile.ZipFile) -> None:
    """A downloaded run's landscape totals and fluxes equal real GCBM's reference run (the CSVs
    keep 10 significant digits)."""
    names = archive.namelist()
    for name, keys, value in (("pool_totals_by_year.csv", ["year", "step", "pool"], "total_tC"),
                              ("fluxes_by_year.csv", ["year", "module", "disturbance_type",
                                                      "source_pool", "sink_pool"], "flux_tC")):
        member = next(n for n in names if n.split("/")[-1] == name)
        ours = pd.read_csv(io.BytesIO(archive.read(member))).fillna({"disturbance_type": ""})
        reference = pd.read_csv(shared_path("data/gcbm-reference", name)).fillna(
            {"disturbance_type": ""})
        merged = reference.merge(ours, on=keys, how="outer", suffixes=("_gcbm", "_ours"),
                                 indicator=True)
        assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head()
        np.testing.assert_allclose(merged[f"{value}_ours"], merged[f"{value}_gcbm"], rtol=1e-6)
    assert any(n.split("/")[-1] == "gcbm_output.db" for n in names)
    assert any(n.endswith("NPP_-106_055_51_1.tif") for n in names)


def test_column_rename_checks_every_name_before_changing_anything(client, tmp_path):
    client.post("/gcbm/upload/db", data={"title": "dbonly"},
                files=[("db", ("gcbm_input.db", make_input_db(tmp_path / "x.db").read_bytes()))])
    body = {"simulation_name": "dbonly",
            "tables": {"extra_table": {"label": "ok_name", "id": "bad name; DROP TABLE x"}}}
    response = client.post("/config", json=body)
    assert response.status_code == 422
    tables = client.post("/upload/db/tables", data={"title": "dbonly"}).json()
    assert tables["extra_table"] == ["id", "label"]  # nothing renamed
    path = next((tmp_path / "data").rglob("db/gcbm_input.db"))
    names = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "extra_table" in names and len(names) == len(tables)


@pytest.mark.parametrize("category", ["disturbances", "classifiers", "miscellaneous", "db"])
def test_each_category_upload_endpoint(client, tmp_path, category):
    files = small_project_files(tmp_path)
    response = client.post(f"/gcbm/upload/{category}", data={"title": "cat"},
                           files=multipart({category: files[category]}))
    assert response.status_code == 200, response.text
    assert response.json()["data"] == f"{category.capitalize()} file uploaded succesfully. " \
                                      "Proceed to the next step."
    [simulation] = client.get("/simulations").json()
    inputs = client.get(f"/simulations/{simulation['id']}/inputs").json()
    assert len(inputs[category]) == len(files[category])


def test_upstream_demo_uploaded_category_by_category_runs(client, worker, tmp_path):
    """FLINT-UI's and the curl docs' way: one endpoint per category, no attributes, then
    gcbm/dynamic: the demo is recognised just the same."""
    files = _demo_upload(tmp_path)
    client.post("/gcbm/new", data={"title": "bycategory"})
    for category in ("classifiers", "disturbances", "miscellaneous", "db"):
        answer = client.post(f"/gcbm/upload/{category}", data={"title": "bycategory"},
                             files=multipart({category: files[category]}))
        assert answer.status_code == 200, answer.text
    assert client.post("/gcbm/status", data={"title": "bycategory"}).json()["problems"] == []
    assert client.post("/gcbm/dynamic", data={"title": "bycategory"}).status_code == 200
    assert worker.run_once().status == "successful"
