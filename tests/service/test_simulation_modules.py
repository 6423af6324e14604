"""Choosing a simulation's modules and outputs through the API: the modules' declaration is the
engine's, switching growth multipliers on gives what the project's own configuration gives, an
output item added through the API is written, and bad settings change nothing."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import rasterio

from flintcloud.gcbm.project import config as engine_config
from flintcloud.gcbm.project.modules import MODULES, describe_modules
from tests.conftest import shared_path
from tests.gcbm.inputs.conftest import cbm_defaults

MERCH_ITEM = {"data_name": "Merch_C", "pool_name": ["SoftwoodMerch", "HardwoodMerch"]}


def _demo(client, title: str = "modules") -> str:
    cbm_defaults()  # the demo's database is built from libcbm's defaults
    created = client.post("/simulations/demo", json={"title": title})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def _run(client, worker, simulation: str) -> None:
    assert client.post(f"/simulations/{simulation}/run").status_code == 201
    job = worker.run_once()
    assert job.status == "successful", job.error_detail


def _matches_reference(client, simulation: str, reference) -> None:
    for name, keys, value in (
            ("pool_totals_by_year.csv", ["year", "step", "pool"], "total_tC"),
            ("fluxes_by_year.csv", ["year", "module", "disturbance_type", "source_pool",
                                    "sink_pool"], "flux_tC")):
        ours = pd.read_csv(io.BytesIO(client.get(
            f"/simulations/{simulation}/outputs/{name}").content))
        theirs = pd.read_csv(reference / name)
        if "disturbance_type" in keys:
            ours, theirs = (frame.fillna({"disturbance_type": ""}) for frame in (ours, theirs))
        merged = ours.merge(theirs, on=keys, suffixes=("_our", "_ref"), how="outer",
                            indicator=True)
        assert (merged._merge == "both").all(), name
        np.testing.assert_allclose(merged[f"{value}_our"], merged[f"{value}_ref"], rtol=1e-6,
                                   atol=0)


def test_modules_are_the_engines_and_served_with_their_schemas(client):
    served = client.get("/simulations/modules").json()["modules"]
    assert served == describe_modules()
    names = {module["name"] for module in served}
    # what the engine accepts in a project is the declaration
    assert engine_config.MAIN_MODULES | engine_config.OUTPUT_MODULES | \
        engine_config.SPINUP_MODULES == names
    optional = {module["name"]: module for module in served if module["optional"]}
    assert set(optional) == {"CBMSpinupSequencer", "GrowthMultiplierModule",
                             "CBMAggregatorSQLiteWriter"}
    growth = optional["GrowthMultiplierModule"]
    assert growth["switch"] == "growth_multipliers.enabled"
    assert growth["settings_schema"]["properties"]["series"]["anyOf"][0]["type"] == "array"
    # each settings section is the settings model's: one schema in the OpenAPI document
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for module in served:
        if module["settings_key"]:
            assert module["settings_key"] in schemas["GcbmSettings"]["properties"]


def test_a_simulations_modules_follow_its_settings(client):
    simulation = _demo(client)
    enabled = {m["name"]: m["enabled"] for m in
               client.get(f"/simulations/{simulation}/modules").json()["modules"]}
    assert enabled["GrowthMultiplierModule"] is False and enabled["CBMSpinupSequencer"] is True
    patched = client.patch(f"/simulations/{simulation}/config", json={
        "growth_multipliers": {"enabled": True}, "outputs": {"results_database": False}})
    assert patched.status_code == 200, patched.text
    enabled = {m["name"]: m["enabled"] for m in
               client.get(f"/simulations/{simulation}/modules").json()["modules"]}
    assert enabled["GrowthMultiplierModule"] is True
    assert enabled["CBMAggregatorSQLiteWriter"] is False
    assert client.get("/simulations/nope/modules").status_code == 404


def _without_growth_multipliers(project: bytes) -> bytes:
    """The feature project as the demo it derives from: no GrowthMultiplierModule, no
    multiplier variables (its events and database are kept)."""
    source = zipfile.ZipFile(io.BytesIO(project))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for member in source.infolist():
            data = source.read(member)
            name = member.filename.rsplit("/", 1)[-1]
            if name == "modules_cbm.json":
                document = json.loads(data)
                document["Modules"].pop("GrowthMultiplierModule")
                data = json.dumps(document).encode()
            elif name == "variables.json":
                document = json.loads(data)
                for variable in ("growth_multipliers", "current_growth_multipliers"):
                    document["Variables"].pop(variable)
                data = json.dumps(document).encode()
            target.writestr(member, data)
    return out.getvalue()


def test_growth_multipliers_switched_on_give_the_projects_own_results(client, worker):
    """gcbm-features/growth_multipliers without its module, uploaded, then switched on through
    the API: the run matches real GCBM's run of the project as published (whose multipliers
    change NPP by a factor of about 3 on the affected stands)."""
    reference = shared_path("data", "gcbm-features", "growth_multipliers")
    simulation = client.post("/simulations", json={"title": "multipliers"}).json()["id"]
    uploaded = client.post(f"/simulations/{simulation}/files", files=[(
        "files", ("project.zip", _without_growth_multipliers(
            (reference / "project.zip").read_bytes())))])
    assert uploaded.status_code == 200, uploaded.text
    assert "growth_multipliers" not in client.get(f"/simulations/{simulation}/config").json()
    patched = client.patch(f"/simulations/{simulation}/config",
                           json={"growth_multipliers": {"enabled": True}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["growth_multipliers"] == {"enabled": True}
    _run(client, worker, simulation)
    _matches_reference(client, simulation, reference)

def test_an_output_item_added_through_the_api_is_written(client, worker):
    simulation = _demo(client)
    patched = client.patch(f"/simulations/{simulation}/config", json={"outputs": {
        "geotiff_indicators": ["AG_Biomass_C"], "items": [MERCH_ITEM]}})
    assert patched.status_code == 200, patched.text
    _run(client, worker, simulation)
    items = client.get(f"/simulations/{simulation}/indicators").json()["items"]
    assert [item["name"] for item in items] == ["AG_Biomass_C", "Merch_C"]
    assert (items[1]["unit"], items[1]["kind"]) == ("tC/ha", "pools")
    manifest = client.get(f"/simulations/{simulation}/outputs/manifest.json").json()
    assert [item["name"] for item in manifest["items"]] == ["AG_Biomass_C", "Merch_C"]
    paths = {f["path"] for f in client.get(f"/simulations/{simulation}/outputs").json()["files"]}
    merch = manifest["items"][1]["mosaics"]
    assert len(merch) == len(items[1]["years"]) == 11 and set(merch.values()) <= paths
    assert any(path.startswith("Merch_C/") and path.endswith(".tif") for path in paths)

    def values(item: str) -> np.ndarray:
        content = client.get(f"/simulations/{simulation}/outputs/cog/{item}_2020.tif").content
        with rasterio.MemoryFile(content) as file, file.open() as raster:
            return raster.read(1, masked=True)

    merch_c, biomass = values("Merch_C"), values("AG_Biomass_C")
    # merchantable stemwood is part of the above-ground biomass, and most stands have some
    assert (merch_c <= biomass + 1e-4).all() and (merch_c > 0).mean() > 0.5


def test_bad_module_settings_are_one_422_and_change_nothing(client):
    simulation = _demo(client)
    before = client.get(f"/simulations/{simulation}/config").json()
    refused = client.patch(f"/simulations/{simulation}/config", json={
        "disturbance_order": {"user": ["Wildfire", "No such fire"]},
        "growth_multipliers": {"series": [{"disturbance_type": "Nope", "forest_type": "Softwood",
                                           "time_step": 1, "multiplier": 0.5}]},
        "outputs": {"items": [{"data_name": "NPP", "pool_name": ["SoftwoodMerch"]},
                              {"data_name": "Fire_C", "flux": [{
                                  "from": ["SoftwoodMerch"], "flux_source": "disturbance",
                                  "disturbance_types": ["Volcano"]}]}]}})
    assert refused.status_code == 422
    assert sorted(error["field"] for error in refused.json()["errors"]) == [
        "disturbance_order.user[1]", "growth_multipliers.series[0].disturbance_type",
        "outputs.items[0].data_name",
        "outputs.items[1].flux[0].disturbance_types[0]"]
    typed = client.patch(f"/simulations/{simulation}/config", json={"outputs": {"items": [
        {"data_name": "A", "pool_name": ["Nope"]}, {"data_name": "B"},
        {"data_name": "../x", "variable_name": "age"}]}})
    assert typed.status_code == 422
    assert sorted(error["field"] for error in typed.json()["errors"]) == [
        "outputs.items.0.pool_name.0", "outputs.items.1", "outputs.items.2.data_name"]
    assert client.get(f"/simulations/{simulation}/config").json() == before


def test_every_module_with_settings_has_them_in_the_settings_model():
    from flintcloud.gcbm.inputs.settings import GcbmSettings

    for module in MODULES:
        if module.settings_key:
            annotation = str(GcbmSettings.model_fields[module.settings_key].annotation)
            assert module.settings is not None and module.settings.__name__ in annotation


def test_spatial_unit_layers_are_checked_by_a_config_patch(client):
    """multi_spu's admin and eco boundary layers, uploaded as a project: an edit of their
    table naming a boundary the database lacks is a 422, and nothing changes."""
    project = shared_path("data", "gcbm-features", "multi_spu", "project.zip").read_bytes()
    simulation = client.post("/simulations", json={"title": "spatial units"}).json()["id"]
    uploaded = client.post(f"/simulations/{simulation}/files",
                           files=[("files", ("project.zip", project))])
    assert uploaded.status_code == 200, uploaded.text
    assert client.get(f"/simulations/{simulation}").json()["ready"] is True
    inputs = {item["layer"]: item for item in
              client.get(f"/simulations/{simulation}/inputs").json()["miscellaneous"]}
    assert (inputs["admin_boundary"]["role"], inputs["admin_boundary"]["needs_attributes"]) == \
        ("admin_boundary", True)
    assert inputs["initial_age"]["needs_attributes"] is False
    choices = client.get(f"/simulations/{simulation}/attributes/choices").json()
    assert {"Alberta", "British Columbia"} <= set(choices["boundaries"]["admin_boundary"])
    before = client.get(f"/simulations/{simulation}/config").json()
    assert choices["layers"]["eco_boundary"]["pixel_values"] == \
        sorted(int(key) for key in before["layers"]["eco_boundary"]["attributes"])
    assert before["layers"]["admin_boundary"] == {
        "role": "admin_boundary", "attributes": {"1": "British Columbia", "2": "Alberta"}}
    refused = client.patch(f"/simulations/{simulation}/config", json={"layers": {
        "admin_boundary": {"attributes": {"1": "British Columbia", "2": "Atlantis"}},
        "eco_boundary": {"attributes": {"1": "Taiga Plains", "2": 7}}}})
    assert refused.status_code == 422
    assert sorted(error["field"] for error in refused.json()["errors"]) == [
        "admin_boundary.attributes['2']", "layers.eco_boundary.attributes['2']"]
    assert client.get(f"/simulations/{simulation}/config").json() == before


def test_disturbance_order_and_conditions_kept_by_a_simulation(client, worker):
    """gcbm-features/disturbance_order uploaded: its order, event and listener conditions are
    the simulation's settings, checked against the database, and run as real GCBM ran them."""
    reference = shared_path("data", "gcbm-features", "disturbance_order")
    simulation = client.post("/simulations", json={"title": "ordering"}).json()["id"]
    uploaded = client.post(f"/simulations/{simulation}/files", files=[
        ("files", ("project.zip", (reference / "project.zip").read_bytes()))])
    assert uploaded.status_code == 200, uploaded.text
    order = client.get(f"/simulations/{simulation}/config").json()["disturbance_order"]
    assert order["user"] == ["Clearcut harvesting with salvage", "Wildfire"]
    assert order["conditions"][1]["override_disturbance_type"] == "Fire with salvage logging"
    bad = [{**order["conditions"][1], "override_disturbance_type": "Fire with a hose",
            "Classifier9": "JP", "run_conditions": [{"SoftwoodMerch + Bark": [">=", 1]}]}]
    events = client.get(f"/simulations/{simulation}/config").json()["layers"]["extra_events"]
    events["attributes"]["2"]["conditions"] = [["agee", ">=", 100]]
    refused = client.patch(f"/simulations/{simulation}/config", json={
        "disturbance_order": {"conditions": bad}, "layers": {"extra_events": events}})
    assert refused.status_code == 422
    assert sorted(error["field"] for error in refused.json()["errors"]) == [
        "disturbance_order.conditions[0].Classifier9",
        "disturbance_order.conditions[0].override_disturbance_type",
        "disturbance_order.conditions[0].run_conditions[0].SoftwoodMerch + Bark",
        "extra_events.attributes['2'].conditions[0]"]
    _run(client, worker, simulation)
    _matches_reference(client, simulation, reference)
