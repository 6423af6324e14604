"""The Configure step's modules in Chromium: every module the API declares is shown with its
switch and settings form (made from its schema); switching a module on and adding an output
item are saved, run, and the item is among the results' maps."""

from __future__ import annotations

from tests.gcbm.inputs.conftest import cbm_defaults
from tests.ui.test_browser import RUN_TIMEOUT_MS, ui


def test_modules_are_switched_and_an_output_item_added_in_the_ui(server, page, tmp_path):
    cbm_defaults()  # the demo's database is built from libcbm's defaults
    created = server.client.post("/simulations/demo", json={"title": "modules in the browser"})
    assert created.status_code == 201, created.text
    simulation = created.json()["id"]
    page.goto(ui(server, f"simulations/{simulation}/config"))
    page.wait_for_selector(".module-card")
    declared = server.client.get("/simulations/modules").json()["modules"]
    shown = page.eval_on_selector_all(".module-card", "cards => cards.map(c => c.dataset.module)")
    assert shown == [module["name"] for module in declared]
    multipliers = page.locator("[data-module=GrowthMultiplierModule]")
    assert "insect defoliation" in multipliers.inner_text()
    switch = multipliers.locator("[data-field='growth_multipliers.enabled'] input")
    assert not switch.is_checked()
    assert not multipliers.locator(".module-settings").is_visible()  # off: its form is folded
    switch.check()
    series = multipliers.locator("[data-field='growth_multipliers.series']")
    series.locator("button:text('Add growth multiplier')").click()
    series.locator("[data-field='growth_multipliers.series.0.disturbance_type'] input").fill("Wildfire")
    series.locator("[data-field='growth_multipliers.series.0.forest_type'] select").select_option("Softwood")
    series.locator("[data-field='growth_multipliers.series.0.time_step'] input").fill("1")
    series.locator("[data-field='growth_multipliers.series.0.multiplier'] input").fill("0.5")

    outputs = page.locator("[data-module=WriteVariableGeotiff]")
    outputs.locator("[data-field='outputs.geotiff_indicators'] button:text('None')").click()
    outputs.locator("[data-field='outputs.geotiff_indicators'] input[value=NPP]").check()
    items = outputs.locator("[data-field='outputs.items']")
    items.locator("button:text('Add output item')").click()
    item = items.locator("[data-field='outputs.items.0']")
    item.locator("[data-field='outputs.items.0.data_name'] input").fill("Merch_C")
    for pool in ("SoftwoodMerch", "HardwoodMerch"):  # the pools' names: the schema's
        item.locator(f"[data-field='outputs.items.0.pool_name'] input[value={pool}]").check()
    page.click("text=Save configuration")
    page.wait_for_selector("text=Configuration saved.")
    saved = server.client.get(f"/simulations/{simulation}/config").json()
    assert saved["growth_multipliers"] == {"enabled": True, "series": [
        {"disturbance_type": "Wildfire", "forest_type": "Softwood", "time_step": 1,
         "multiplier": 0.5}]}
    assert saved["outputs"]["geotiff_indicators"] == ["NPP"]
    pools = saved["outputs"]["items"][0].pop("pool_name")
    assert sorted(pools) == ["HardwoodMerch", "SoftwoodMerch"]
    assert saved["outputs"]["items"] == [{"data_name": "Merch_C", "enabled": True,
                                          "variable_data_type": "float",
                                          "on_notification": "OutputStep",
                                          "apply_area_adjustment": False,
                                          "subtract_previous_value": False}]
    enabled = {m["name"]: m["enabled"] for m in
               server.client.get(f"/simulations/{simulation}/modules").json()["modules"]}
    assert enabled["GrowthMultiplierModule"] is True
    page.wait_for_selector("[data-module=GrowthMultiplierModule] .module-settings")  # re-shown
    assert page.is_checked("[data-field='growth_multipliers.enabled'] input")

    page.click(".stepper >> text=Run")
    page.click("#run-simulation")
    page.wait_for_selector(".job-panel[data-status=successful]", timeout=RUN_TIMEOUT_MS)
    page.click("text=See the results →")
    page.wait_for_selector("#map-indicator option[value=Merch_C]", state="attached")
    options = page.eval_on_selector_all("#map-indicator option", "os => os.map(o => o.value)")
    assert options == ["NPP", "Merch_C"]
    # the multipliers took effect: the burnt softwood grows at half its rate the year after
    years = server.client.get(f"/simulations/{simulation}/summary").json()["years"]
    plain = server.client.post("/simulations/demo", json={"title": "without"}).json()["id"]
    server.client.patch(f"/simulations/{plain}/config",
                        json={"outputs": {"geotiff_indicators": ["NPP"]}})
    job = server.client.post(f"/simulations/{plain}/run")
    assert job.status_code in (200, 201), job.text
    page.screenshot(path=tmp_path / "modules.png", full_page=True)
    _wait_successful(server, plain)
    baseline = server.client.get(f"/simulations/{plain}/summary").json()["years"]
    npp = {row["year"]: row["npp_tc_per_yr"] for row in years}
    npp_plain = {row["year"]: row["npp_tc_per_yr"] for row in baseline}
    assert npp[2011] == npp_plain[2011] and npp[2012] < npp_plain[2012]


def _wait_successful(server, simulation: str) -> None:
    import time

    for _ in range(600):
        status = server.client.get(f"/simulations/{simulation}").json()["status"]
        if status == "successful":
            return
        assert status not in ("failed", "dismissed"), status
        time.sleep(0.2)
    raise AssertionError("the run did not finish")


def test_spatial_unit_layers_have_their_tables_in_the_ui(server, page):
    """multi_spu's admin and eco boundary rasters: tables like a classifier's, with the
    database's boundary names offered; a name the database lacks is refused next to its row."""
    from tests.conftest import shared_path

    project = shared_path("data", "gcbm-features", "multi_spu", "project.zip").read_bytes()
    simulation = server.client.post("/simulations", json={"title": "units in the browser"}).json()["id"]
    uploaded = server.client.post(f"/simulations/{simulation}/files",
                                  files=[("files", ("project.zip", project))])
    assert uploaded.status_code == 200, uploaded.text
    page.goto(ui(server, f"simulations/{simulation}/config"))
    table = page.locator(".attribute-table[data-layer=admin_boundary]")
    table.locator("summary").click()
    assert "admin_boundary layer" in table.locator("summary").inner_text()
    assert table.locator("tbody tr").count() == 2
    options = table.locator("datalist option")
    options.first.wait_for(state="attached")  # the database's admin boundaries
    assert "Alberta" in [options.nth(i).get_attribute("value") for i in range(options.count())]
    name = table.locator("tbody tr").nth(1).locator("input").nth(1)
    assert name.input_value() == "Alberta"
    name.fill("Atlantis")
    page.click("text=Save configuration")
    page.locator(".config-problems").wait_for()
    page.wait_for_selector("text=The configuration was not saved")
    assert "admin_boundary 'Atlantis' is in no spatial unit" in page.inner_text(".config-problems")
    name.fill("British Columbia")
    page.click("text=Save configuration")
    page.wait_for_selector("text=Configuration saved.")
    saved = server.client.get(f"/simulations/{simulation}/config").json()["layers"]
    assert saved["admin_boundary"]["attributes"] == {"1": "British Columbia",
                                                     "2": "British Columbia"}
