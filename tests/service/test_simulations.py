"""The simulation resource: create, upload, inspect, configure, run, and read the results."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import yaml

from conftest import SMALL_ATTRIBUTES, make_geotiff, small_project_files, zip_bytes
from flintcloud.errors import InputProblems
from flintcloud.gcbm.inputs import validate_inputs
from flintcloud.service import gcbm_engine
from flintcloud.service.errors import error_item


@pytest.fixture
def fake_engine(monkeypatch):
    from fake_gcbm import run_fake_gcbm

    monkeypatch.setattr(gcbm_engine, "run_gcbm_project", run_fake_gcbm)


def project_zip(tmp_path) -> bytes:
    files = small_project_files(tmp_path / "files")
    members = {f"{category}/{path.name}": path.read_bytes()
               for category, paths in files.items() for path in paths}
    members["attributes.json"] = json.dumps(SMALL_ATTRIBUTES).encode()
    # what macOS's Finder adds to a zip is skipped, as the CLI skips it
    members["__MACOSX/classifiers/._Classifier1_moja.tiff"] = b"\x00\x05\x16\x07"
    return zip_bytes(members)


@pytest.fixture
def simulation(client) -> str:
    response = client.post("/simulations", json={"title": "demo"})
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/simulations/{response.json()['id']}")
    return response.json()["id"]


def test_create_list_get_delete(client, simulation):
    assert client.post("/simulations", json={"title": "demo"}).status_code == 409
    assert [s["id"] for s in client.get("/simulations").json()] == [simulation]
    described = client.get(f"/simulations/{simulation}").json()
    assert described["status"] == "new" and described["ready"] is False
    problems = described["problems"]  # what prepare_project says is missing
    assert {problem["code"] for problem in problems} == {"missing_input"}
    messages = [problem["message"] for problem in problems]
    assert "expected exactly one database file in db/, found none" in messages
    assert any(message.startswith("no classifier layer") for message in messages)
    assert "expected one age layer (GCBM's initial_age), found 0" in messages
    assert client.delete(f"/simulations/{simulation}").status_code == 204
    assert client.get(f"/simulations/{simulation}").status_code == 404


def test_upload_one_zip_with_attributes_makes_it_ready(client, simulation, tmp_path):
    response = client.post(f"/simulations/{simulation}/files",
                           files=[("files", ("project.zip", project_zip(tmp_path)))])
    assert response.status_code == 200, response.text
    inputs = response.json()["inputs"]
    assert [f["layer"] for f in inputs["classifiers"]] == ["Classifier1", "Classifier2"]
    assert inputs["classifiers"][0]["has_attributes"] is True
    assert inputs["classifiers"][0]["raster"]["crs"] == "EPSG:4326"
    assert inputs["db"][0]["name"] == "gcbm_input.db"
    assert client.get(f"/simulations/{simulation}").json()["ready"] is True
    tables = client.get(f"/simulations/{simulation}/tables").json()
    assert "classifier" in tables


def test_files_one_by_one_and_removal(client, simulation, tmp_path):
    files = small_project_files(tmp_path / "f")
    for category, paths in files.items():
        for path in paths:
            response = client.post(f"/simulations/{simulation}/files", data={"category": category},
                                   files=[("files", (path.name, path.read_bytes()))])
            assert response.status_code == 200, response.text
    removed = client.delete(f"/simulations/{simulation}/inputs/disturbances/disturbances_2012_moja.tiff")
    assert removed.status_code == 204
    assert client.get(f"/simulations/{simulation}/inputs").json()["disturbances"] == []
    assert client.delete(f"/simulations/{simulation}/inputs/disturbances/nope.tiff").status_code == 404


def test_layer_cannot_change_category(client, simulation, tmp_path):
    raster = make_geotiff(tmp_path / "x.tiff", [[1]]).read_bytes()
    client.post(f"/simulations/{simulation}/files", data={"category": "classifiers"},
                files=[("files", ("x.tiff", raster))])
    response = client.post(f"/simulations/{simulation}/files", data={"category": "disturbances"},
                           files=[("files", ("x.tiff", raster))])
    assert response.status_code == 422 and "already a classifiers layer" in response.json()["detail"]


def test_config_is_read_edited_and_validated(client, simulation, tmp_path):
    config = client.get(f"/simulations/{simulation}/config").json()
    assert config == {"layers": {}}  # no period or spatial unit is guessed

    client.post(f"/simulations/{simulation}/files",
                files=[("files", ("project.zip", project_zip(tmp_path)))])
    patch = {"end_year": 2015, "spinup": {"minimum_rotation": 12},
             "growth": {"smoother_enabled": False},
             "outputs": {"geotiff_indicators": ["Age", "NPP"], "results_database": False}}
    updated = client.patch(f"/simulations/{simulation}/config", json=patch)
    assert updated.status_code == 200, updated.text
    assert updated.json()["spinup"] == {"enabled": True, "minimum_rotation": 12}
    assert updated.json()["layers"]["Classifier1"] == {"attributes": {"1": "TA", "2": "BP"}}
    spinup = client.get(f"/simulations/{simulation}/config/files/spinup").json()
    assert spinup["SpinupVariables"]["minimum_rotation"] == 12
    modules = client.get(f"/simulations/{simulation}/config/files/modules_cbm").json()
    assert modules["Modules"]["CBMGrowthModule"]["settings"]["smoother_enabled"] is False
    output = client.get(f"/simulations/{simulation}/config/files/modules_output").json()["Modules"]
    assert output["CBMAggregatorSQLiteWriter"]["enabled"] is False
    assert [item["data_name"] for item in output["WriteVariableGeotiff"]["settings"]["items"]
            if item["enabled"]] == ["Age", "NPP"]
    domain = client.get(f"/simulations/{simulation}/config/files/localdomain").json()
    assert domain["LocalDomain"]["end_date"] == "2016/01/01"

    # the configuration's former names still work
    former = {"start_date": "2011-01-01", "end_date": "2014-01-01",
              "variables": {"eco_boundary": "Taiga Plains"},
              "attributes": {"Classifier1_moja.tiff": {"2": None}}}
    updated = client.patch(f"/simulations/{simulation}/config", json=former).json()
    assert (updated["start_year"], updated["end_year"]) == (2011, 2013)
    assert updated["layers"]["Classifier1"]["attributes"] == {"1": "TA"}
    variables = client.get(f"/simulations/{simulation}/config/files/variables")
    assert variables.status_code == 422  # pixel value 2 of Classifier1 has no attribute now
    assert "pixel values 2 are not in its attribute table" in variables.json()["detail"]
    removed = client.patch(f"/simulations/{simulation}/config", json={"spinup": None})
    assert "spinup" not in removed.json()


def test_config_with_a_period_out_of_order_is_saved_and_stops_a_run(client, simulation):
    """As the Configure form saves it: the end before the start is kept, then named by its
    field among what stops a run, until it is fixed."""
    saved = client.patch(f"/simulations/{simulation}/config",
                         json={"start_year": 2010, "end_year": 2005})
    assert saved.status_code == 200, saved.text
    assert (saved.json()["start_year"], saved.json()["end_year"]) == (2010, 2005)
    assert client.get(f"/simulations/{simulation}/config").json()["end_year"] == 2005
    problems = client.get(f"/simulations/{simulation}").json()["problems"]
    assert {"field": "end_year", "message": "end_year 2005 is before start_year 2010"}.items() <= \
        next(problem for problem in problems if problem["field"] == "end_year").items()
    fixed = client.patch(f"/simulations/{simulation}/config", json={"end_year": 2014})
    assert fixed.status_code == 200 and fixed.json()["end_year"] == 2014
    problems = client.get(f"/simulations/{simulation}").json()["problems"]
    assert not [problem for problem in problems if problem["field"] == "end_year"]


@pytest.mark.parametrize(("patch", "field"), [
    ({"end_date": "2001-06-01"}, "end_date"),
    ({"modules": {"NoSuchModule": {"enabled": False}}}, "modules"),
    ({"variables": {"softwood_yield_table": 1}}, "variables"),
    ({"layers": {"Classifier1": {"attributes": "nope.csv"}}}, "layers.Classifier1.attributes"),
    ({"attributes": {"Classifier1": {"one": "TA"}}}, "layers.Classifier1.attributes['one']"),
    ({"spinup": {"minimum_rotation": 0}}, "spinup.minimum_rotation"),
    ({"spinup": {"delay": 3}}, "spinup.delay"),
    ({"start_date": "not a date"}, "start_date"),
    ({"database": "db/other.db"}, "database"),
    ({"align": "sideways"}, "align"),
])
def test_invalid_config_edits_are_422_with_the_field(client, simulation, tmp_path, patch, field):
    client.post(f"/simulations/{simulation}/files",
                files=[("files", ("project.zip", project_zip(tmp_path)))])
    before = client.get(f"/simulations/{simulation}/config").json()
    response = client.patch(f"/simulations/{simulation}/config", json=patch)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert client.get(f"/simulations/{simulation}/config").json() == before


def test_run_checks_attributes_against_the_database_and_pixels(client, simulation, tmp_path):
    client.post(f"/simulations/{simulation}/files",
                files=[("files", ("project.zip", project_zip(tmp_path)))])
    wrong = {"attributes": {"Classifier1": {"1": "XX", "2": "BP"},
                            "disturbances_2012": {"1": {"year": 2012, "disturbance_type": "Meteor"}}}}
    assert client.patch(f"/simulations/{simulation}/config", json=wrong).status_code == 200
    response = client.post(f"/simulations/{simulation}/run")
    assert response.status_code == 422
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert messages["Classifier1.attributes['1']"].startswith("unknown classifier value 'XX'")
    assert messages["disturbances_2012.attributes['1'].disturbance_type"].startswith(
        "unknown disturbance type 'Meteor'")
    assert client.get(f"/simulations/{simulation}").json()["problems"] == response.json()["errors"]
    client.patch(f"/simulations/{simulation}/config",
                 json={"attributes": {"Classifier1": {"1": "TA", "2": None}},
                       "layers": {"disturbances_2012": {"attributes": {"1": "Wildfire"}}}})
    response = client.post(f"/simulations/{simulation}/run")
    assert "pixel values 2 are not in its attribute table" in response.json()["detail"]


def test_run_outputs_summary_and_indicators(client, simulation, worker, tmp_path, fake_engine):
    client.post(f"/simulations/{simulation}/files",
                files=[("files", ("project.zip", project_zip(tmp_path)))])
    client.patch(f"/simulations/{simulation}/config", json={"end_date": "2013-01-01"})
    assert client.get(f"/simulations/{simulation}/outputs").status_code == 404
    run = client.post(f"/simulations/{simulation}/run")
    assert run.status_code == 201 and run.json()["processID"] == "gcbm"
    assert run.headers["Location"].endswith(f"/jobs/{run.json()['jobID']}")
    job = worker.run_once()
    assert job.status == "successful", job.error_detail
    assert job.message == "successful"
    assert any("year 2012" in line for line in client.get(f"/jobs/{job.id}/logs").json()["lines"])

    listing = client.get(f"/simulations/{simulation}/outputs").json()
    paths = [f["path"] for f in listing["files"]]
    assert "gcbm_output.db" in paths and "NPP/-106_055/NPP_-106_055_51_1.tif" in paths
    # the main files it wrote, named as gcbm.outputs.layout declares them (the UI's downloads)
    assert listing["main"] == [{"path": "gcbm_output.db", "title": "Results database"},
                               {"path": "manifest.json", "title": "Manifest"}]
    assert {file["path"] for file in listing["main"]} <= set(paths)
    one = client.get(f"/simulations/{simulation}/outputs/gcbm_output.db")
    assert one.status_code == 200 and one.content.startswith(b"SQLite format 3")
    bundle = client.get(f"/simulations/{simulation}/outputs.zip")
    assert sorted(zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()) == sorted(paths)

    years = client.get(f"/simulations/{simulation}/summary").json()["years"]
    assert [row["year"] for row in years] == [2010, 2011, 2012]
    first = years[0]  # as the (fake) run's annual_summary.json says
    assert first["total_biomass_tc"] == 101.0 and first["soil_tc"] == 301.0
    assert first["npp_tc_per_yr"] == 5.0 and first["nep_tc_per_yr"] == 3.0
    indicators = client.get(f"/simulations/{simulation}/indicators").json()
    assert indicators["indicators"] == ["NPP"]
    assert indicators.keys() == {"indicators", "items"}
    # each item as the run's manifest.json declares it
    assert indicators["items"] == [{"name": "NPP", "unit": "tC/ha/yr", "kind": "fluxes",
                                    "years": ["2010", "2011", "2012"],
                                    "description": "Net primary production"}]
    series = client.get(f"/simulations/{simulation}/indicators/NPP").json()["series"]
    assert [(s["year"], s["mean"], s["n_pixels"]) for s in series] == \
        [(2010, 1.0, 3), (2011, 2.0, 3), (2012, 3.0, 3)]
    assert client.get(f"/simulations/{simulation}/indicators/Nope").status_code == 404
    assert client.get(f"/simulations/{simulation}").json()["status"] == "successful"


def test_gcbm_execute_through_ogc_runs_the_simulation(client, simulation, tmp_path):
    client.post(f"/simulations/{simulation}/files",
                files=[("files", ("project.zip", project_zip(tmp_path)))])
    response = client.post("/processes/gcbm/execution", json={"inputs": {"simulation": simulation}})
    assert response.status_code == 201  # async-only process
    assert response.json()["simulation"] == simulation
    missing = client.post("/processes/gcbm/execution",
                          json={"inputs": {"simulation": "00000000-0000-4000-8000-000000000000"}})
    assert missing.status_code == 404


def test_the_service_and_the_cli_find_the_same_problems(client, services, simulation, tmp_path):
    """One validation: an upload zip with an attributes.yaml gets the problems `flintcloud gcbm
    validate` (validate_inputs) lists for that zip, and the simulation's inputs folder, given
    to the CLI, gets exactly the service's answer."""
    files = small_project_files(tmp_path / "files")
    members = {f"{category}/{path.name}": path.read_bytes()
               for category, paths in files.items() for path in paths}
    members["attributes.yaml"] = yaml.safe_dump({
        "start_year": 2010, "end_year": 2014, "admin_boundary": "British Columbia",
        "eco_boundary": "Taiga Plains", "layers": {
            "Classifier1": {"attributes": {1: "TA", 2: "ZZ"}},  # ZZ: not in the database
            "Classifier2": {"attributes": {1: "5"}},
            "disturbances_2012": {"attributes": {1: "Meteor strike"}}}}).encode()
    upload = tmp_path / "upload.zip"
    upload.write_bytes(zip_bytes(members))
    with pytest.raises(InputProblems) as cli:
        validate_inputs(upload)
    assert len(cli.value.problems) == 2

    response = client.post(f"/simulations/{simulation}/files",
                           files=[("files", ("upload.zip", upload.read_bytes()))])
    assert response.status_code == 200, response.text  # every file is fine on its own
    refused = client.post(f"/simulations/{simulation}/run")
    assert refused.status_code == 422
    # the service keeps the settings in its inputs' attributes.json
    assert refused.json()["errors"] == [
        {**error_item(problem), "source": "attributes.json"} for problem in cli.value.problems]
    assert client.get(f"/simulations/{simulation}").json()["problems"] == refused.json()["errors"]

    inputs = services.storage.simulation_dir(simulation) / "inputs"
    with pytest.raises(InputProblems) as same:
        validate_inputs(inputs)
    assert [error_item(problem) for problem in same.value.problems] == refused.json()["errors"]
    assert f"the simulation cannot run yet: {same.value.message}" == refused.json()["detail"]


def test_a_complete_project_zip_becomes_a_ready_simulation(client, worker, simulation):
    from tests.conftest import shared_path

    project = shared_path("data/gcbm-demo/gcbm-project-demo.zip").read_bytes()
    uploaded = client.post(f"/simulations/{simulation}/files",
                           files=[("files", ("gcbm-project-demo.zip", project))])
    assert uploaded.status_code == 200, uploaded.text
    config = client.get(f"/simulations/{simulation}/config").json()
    assert (config["start_year"], config["end_year"]) == (2010, 2020)
    assert config["layers"]["disturbances_2013"]["attributes"]["2"]["disturbance_type"] == "Wildfire"
    run = client.post(f"/simulations/{simulation}/run")
    assert run.status_code == 201, run.text
    job = worker.run_once()
    assert job.status == "successful", job.error_detail
    years = client.get(f"/simulations/{simulation}/summary").json()["years"]
    assert round(years[0]["total_ecosystem_tc"], 2) == 66367.53  # real GCBM's, reference README


def test_indicator_choices_are_the_templates_items_with_their_units(client, simulation):
    """What the Configure form offers for outputs.geotiff_indicators: GCBM's standard
    WriteVariableGeotiff items (the templates'), each with its unit as a run would declare it."""
    from flintcloud.gcbm.inputs.config import standard_geotiff_module

    response = client.get(f"/simulations/{simulation}/config/indicators")
    assert response.status_code == 200, response.text
    choices = response.json()["indicators"]
    assert [item["name"] for item in choices] == \
        [item["data_name"] for item in standard_geotiff_module()["settings"]["items"]]
    assert len(choices) == 21
    by_name = {item["name"]: item for item in choices}
    assert by_name["Age"] == {"name": "Age", "unit": "years", "kind": "variable",
                              "description": "Stand age"}
    assert (by_name["Total_Ecosystem_C"]["unit"], by_name["NPP"]["unit"]) == ("tC/ha", "tC/ha/yr")
    assert all(item["description"] for item in choices)
    assert client.get("/simulations/nope/config/indicators").status_code == 404


def test_settings_have_one_schema_in_the_openapi_document(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "GcbmSettings" in schemas and "LayerSettings" in schemas  # what the UI's form reads
    assert not {"Description", "ProjectSettings", "LayerEntry"} & schemas.keys()


def test_new_simulation_guesses_no_period_or_spatial_unit(client, services, simulation, tmp_path):
    """Tables but no period or spatial unit: the run is refused with exactly the problems
    `flintcloud gcbm validate` lists for the same inputs (the database has 48 spatial units)."""
    from conftest import SMALL_TABLES

    files = small_project_files(tmp_path / "files")
    members = {f"{category}/{path.name}": path.read_bytes()
               for category, paths in files.items() for path in paths}
    members["attributes.json"] = json.dumps(SMALL_TABLES).encode()
    uploaded = client.post(f"/simulations/{simulation}/files",
                           files=[("files", ("upload.zip", zip_bytes(members)))])
    assert uploaded.status_code == 200, uploaded.text
    assert "start_year" not in client.get(f"/simulations/{simulation}/config").json()
    refused = client.post(f"/simulations/{simulation}/run")
    assert refused.status_code == 422
    with pytest.raises(InputProblems) as cli:
        validate_inputs(services.storage.simulation_dir(simulation) / "inputs")
    assert refused.json()["errors"] == [error_item(problem) for problem in cli.value.problems]
    assert [e["field"] for e in refused.json()["errors"]] == ["admin_boundary/eco_boundary"]


def test_demo_simulation_needs_no_files_and_is_ready(client):
    """The UI's one-click demo: `gcbm demo`'s synthetic project as a simulation."""
    from tests.gcbm.inputs.conftest import cbm_defaults

    cbm_defaults()  # libcbm builds its database (skips, or fails in CI, without it)
    created = client.post("/simulations/demo", json={"title": "one click"})
    assert created.status_code == 201, created.text
    assert created.json()["ready"] is True and created.json()["problems"] == []
    inputs = client.get(f"/simulations/{created.json()['id']}/inputs").json()
    assert {item["layer"] for item in inputs["classifiers"]} == {"LeadingSpecies", "SiteClass"}
    assert client.post("/simulations/demo", json={"title": "one click"}).status_code == 409
    assert client.post("/simulations/demo").status_code == 201  # default title


def test_an_attributes_file_may_be_uploaded_on_its_own(client, simulation, tmp_path):
    files = small_project_files(tmp_path)
    for category, paths in files.items():  # each file in its category, no attributes yet
        for path in paths:
            data = {"category": category} if category != "db" else {}
            assert client.post(f"/simulations/{simulation}/files", data=data, files=[
                ("files", (path.name, path.read_bytes()))]).status_code == 200
    for name, document in (("tables.yaml", yaml.safe_dump(SMALL_ATTRIBUTES)),
                           ("tables.json", json.dumps(SMALL_ATTRIBUTES))):
        answer = client.post(f"/simulations/{simulation}/files",
                             files=[("files", (name, document.encode()))])
        assert answer.status_code == 200, answer.text
        assert client.get(f"/simulations/{simulation}").json()["ready"] is True
    csv = "layer,value,classifier_value\nClassifier1,1,BP\nClassifier1,2,TA\n"
    answer = client.post(f"/simulations/{simulation}/files", files=[("files", ("t.csv", csv.encode()))])
    assert answer.status_code == 200, answer.text
    config = client.get(f"/simulations/{simulation}/config").json()
    assert config["layers"]["Classifier1"]["attributes"] == {"1": "BP", "2": "TA"}
