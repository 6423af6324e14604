"""Hand edits of a simulation's GCBM configuration files: GET/PATCH/PUT/DELETE
/simulations/{id}/config/files/{name}, checked like an uploaded project, kept across input
changes until reset, and recorded in the runs' manifests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import SMALL_ATTRIBUTES, small_project_files, zip_bytes

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}


def _project_zip(tmp_path: Path) -> bytes:
    files = small_project_files(tmp_path / "files")
    members = {f"{category}/{path.name}": path.read_bytes()
               for category, paths in files.items() for path in paths}
    members["attributes.json"] = json.dumps(SMALL_ATTRIBUTES).encode()
    return zip_bytes(members)


@pytest.fixture
def ready(client, tmp_path) -> str:
    """A simulation of the small project, ready to run."""
    simulation = client.post("/simulations", json={"title": "edits"}).json()["id"]
    answer = client.post(f"/simulations/{simulation}/files",
                         files=[("files", ("project.zip", _project_zip(tmp_path)))])
    assert answer.status_code == 200, answer.text
    assert client.get(f"/simulations/{simulation}").json()["ready"] is True
    return simulation


def _patch(client, simulation: str, name: str, patch) -> object:
    return client.patch(f"/simulations/{simulation}/config/files/{name}",
                        content=json.dumps(patch), headers=MERGE_PATCH)


def _file_bytes(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_config_files_lists_the_editable_files_and_the_layers(client, ready):
    files = client.get(f"/simulations/{ready}/config/files").json()
    editable = [item["name"] for item in files["files"] if item["editable"]]
    assert editable == ["localdomain.json", "pools_cbm.json", "modules_cbm.json",
                        "modules_output.json", "spinup.json", "variables.json",
                        "internal_variables.json", "provider_config.json"]
    assert {"Classifier1.json", "study_area.json"} <= \
        {item["name"] for item in files["files"] if not item["editable"]}
    assert all(item["edit"] is None for item in files["files"]) and files["problems"] == []
    assert client.get(f"/simulations/{ready}/config/files/nope").status_code == 404
    assert client.patch(f"/simulations/{ready}/config/files/gcbm_config.cfg",
                        json={}).status_code == 404  # not a JSON file of the project


def test_bad_patch_is_422_listing_file_path_and_problem_and_changes_nothing(
        client, services, ready):
    folder = services.storage.simulation_dir(ready)
    before = _file_bytes(folder)
    shown = client.get(f"/simulations/{ready}/config/files/modules_cbm").json()
    refused = _patch(client, ready, "modules_cbm.json",
                     {"Modules": {"CBMGrowthModule": {"settings": {"smoother": "yes"}}}})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"] == [{
        "source": "modules_cbm.json", "field": "Modules.CBMGrowthModule.settings.smoother",
        "message": "setting 'smoother' is not supported", "code": "invalid_config"}]
    # the checks of an uploaded project run too: a table that no longer fits the layer
    provider = client.get(f"/simulations/{ready}/config/files/provider_config").json()
    layers = provider["Providers"]["RasterTiled"]["layers"]
    outside = [{**layer, "layer_path": "../../../../outside.tiff"} if layer["name"] == "Classifier1"
               else layer for layer in layers]
    refused = _patch(client, ready, "provider_config",
                     {"Providers": {"RasterTiled": {"layers": outside}}})
    assert refused.status_code == 422
    assert [(e["source"], e["field"]) for e in refused.json()["errors"]] == \
        [("provider_config.json", "layers[Classifier1].layer_path")]
    not_object = _patch(client, ready, "variables", ["a list"])
    assert not_object.status_code == 422
    assert not_object.json()["errors"] == [{
        "source": "variables.json", "field": "(top level)", "code": "invalid_input",
        "message": "the file must stay a JSON object, not list"}]
    assert _file_bytes(folder) == before  # byte for byte: edits, project, state
    assert client.get(f"/simulations/{ready}/config/files/modules_cbm").json() == shown
    assert client.get(f"/simulations/{ready}").json()["ready"] is True


def test_patch_survives_input_changes_until_reset(client, services, ready, tmp_path):
    patched = _patch(client, ready, "variables",
                     {"Variables": {"slow_ag_to_bg_mixing_rate": 0.25}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["Variables"]["slow_ag_to_bg_mixing_rate"] == 0.25
    listed = client.get(f"/simulations/{ready}/config/files").json()["files"]
    assert {item["name"]: item["edit"] for item in listed}["variables.json"] == "patch"
    project = services.storage.simulation_dir(ready) / "prepared" / "project" / "config"
    assert json.loads((project / "variables.json").read_text())["Variables"][
        "slow_ag_to_bg_mixing_rate"] == 0.25  # what a run gets

    # the inputs change (a settings edit, a re-upload): the project is made again, and the
    # patch applied on top of it
    assert client.patch(f"/simulations/{ready}/config",
                        json={"end_year": 2015}).status_code == 200
    again = client.post(f"/simulations/{ready}/files",
                        files=[("files", ("project.zip", _project_zip(tmp_path / "again")))])
    assert again.status_code == 200, again.text
    domain = client.get(f"/simulations/{ready}/config/files/localdomain").json()
    assert domain["LocalDomain"]["end_date"] == "2021/01/01"  # the re-upload's period
    variables = client.get(f"/simulations/{ready}/config/files/variables.json").json()
    assert variables["Variables"]["slow_ag_to_bg_mixing_rate"] == 0.25
    assert json.loads((project / "variables.json").read_text())["Variables"][
        "slow_ag_to_bg_mixing_rate"] == 0.25
    assert client.get(f"/simulations/{ready}").json()["ready"] is True

    assert client.delete(f"/simulations/{ready}/config/files/variables").status_code == 204
    reset = client.get(f"/simulations/{ready}/config/files/variables.json").json()
    assert reset["Variables"]["slow_ag_to_bg_mixing_rate"] == 0.006  # the templates' value
    assert json.loads((project / "variables.json").read_text())["Variables"][
        "slow_ag_to_bg_mixing_rate"] == 0.006
    listed = client.get(f"/simulations/{ready}/config/files").json()["files"]
    assert all(item["edit"] is None for item in listed)


def test_an_edit_that_no_longer_applies_stops_a_run_and_says_why(client, ready):
    modules = client.get(f"/simulations/{ready}/config/files/modules_cbm").json()
    assert modules["Modules"]["CBMDisturbanceListener"]["settings"]["vars"] == \
        ["disturbances_2012"]
    replaced = client.put(f"/simulations/{ready}/config/files/modules_cbm.json", json=modules)
    assert replaced.status_code == 200, replaced.text
    # the fire's raster goes: the replaced file still names its layer
    gone = client.delete(f"/simulations/{ready}/inputs/disturbances/disturbances_2012_moja.tiff")
    assert gone.status_code == 204
    described = client.get(f"/simulations/{ready}").json()
    assert described["ready"] is False
    assert [(p["source"], p["field"]) for p in described["problems"]] == \
        [("variables.json", "Variables.disturbances_2012")]
    assert "DELETE /simulations/" in described["problems"][0]["hint"]
    listed = client.get(f"/simulations/{ready}/config/files").json()
    assert listed["problems"] == described["problems"]
    refused = client.post(f"/simulations/{ready}/run")
    assert refused.status_code == 422
    assert "edits no longer apply" in refused.json()["detail"]
    # the edited file can still be read, to fix it; a reset makes the simulation ready
    assert client.get(f"/simulations/{ready}/config/files/modules_cbm").json() == modules
    assert client.delete(f"/simulations/{ready}/config/files/modules_cbm").status_code == 204
    assert client.get(f"/simulations/{ready}").json()["ready"] is True


def test_patched_files_change_the_results_and_the_manifest_records_them(
        client, services, worker, ready):
    def run() -> tuple[dict, list[dict]]:
        assert client.post(f"/simulations/{ready}/run").status_code == 201
        job = worker.run_once()
        assert job.status == "successful", job.error_detail
        manifest = client.get(f"/simulations/{ready}/outputs/manifest.json").json()
        return manifest, client.get(f"/simulations/{ready}/summary").json()["years"]

    _, before = run()
    assert [row["year"] for row in before][-1] == 2020
    assert _patch(client, ready, "localdomain",
                  {"LocalDomain": {"end_date": "2016/01/01"}}).status_code == 200
    assert _patch(client, ready, "variables",
                  {"Variables": {"slow_ag_to_bg_mixing_rate": 0.5}}).status_code == 200
    manifest, after = run()
    assert [row["year"] for row in after] == [row["year"] for row in before][:6]  # 2010-2015
    # the mixing rate moves carbon from above- to belowground slow soil (spinup included)
    for edited, original in zip(after, before, strict=False):
        assert edited["soil_tc"] != pytest.approx(original["soil_tc"], rel=1e-6)
    documents = manifest["configuration"]["documents"]
    served = client.get(f"/simulations/{ready}/config/files/variables.json").json()
    assert documents["variables.json"] == served
    assert documents["variables.json"]["Variables"]["slow_ag_to_bg_mixing_rate"] == 0.5
    assert documents["localdomain.json"]["LocalDomain"]["end_date"] == "2016/01/01"
    assert manifest["configuration"]["merged"]["Variables"]["slow_ag_to_bg_mixing_rate"] == 0.5
    project = services.storage.simulation_dir(ready) / "prepared" / "project"
    hashes = {entry["path"]: entry["sha256"] for entry in manifest["inputs"]}
    assert hashes["config/variables.json"] == \
        hashlib.sha256((project / "config/variables.json").read_bytes()).hexdigest()
    log = client.get(f"/jobs/{manifest_job(client, ready)}/logs").json()["lines"]
    assert any("configuration files edited by hand: localdomain.json (patch), variables.json "
               "(patch)" in line for line in log), log


def manifest_job(client, simulation: str) -> str:
    return client.get(f"/simulations/{simulation}/outputs").json()["job"]
