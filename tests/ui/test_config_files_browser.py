"""The Configure step's GCBM files in Chromium: a file edited in the JSON editor (a syntax error
shown with its line, the API's problems with their JSON path), saved as a patch, run, and the
run's summary shows the edit; reset brings the generated file back."""

from __future__ import annotations

import json

from tests.gcbm.inputs.conftest import cbm_defaults
from tests.ui.test_browser import RUN_TIMEOUT_MS, ui


def _open_file(page, name: str) -> None:
    page.select_option("select[name=config-file]", name)
    page.wait_for_selector(f"textarea[aria-label='{name} (JSON)']")


def test_a_file_edited_in_the_ui_changes_the_run(server, page):
    cbm_defaults()  # the demo's database is built from libcbm's defaults
    created = server.client.post("/simulations/demo", json={"title": "files in the browser"})
    assert created.status_code == 201, created.text
    simulation = created.json()["id"]
    page.goto(ui(server, f"simulations/{simulation}/config"))
    page.click("#project-files > summary")
    _open_file(page, "modules_cbm.json")
    editor = page.locator("textarea.json-text")

    # a syntax error is named by line before anything is sent
    text = editor.input_value()
    editor.fill(text.replace('"Modules": {', '"Modules": {,', 1))
    assert "line 2" in page.inner_text(".json-status.error")
    # a file the engine refuses: the API's problem with its JSON path, nothing saved
    document = json.loads(text)
    document["Modules"]["CBMGrowthModule"].setdefault("settings", {})["bogus"] = 1
    editor.fill(json.dumps(document, indent=2))
    page.click("button[data-action=save-file]")
    problem = page.locator(".json-problems li").first
    problem.wait_for()
    assert "Modules.CBMGrowthModule.settings.bogus" in problem.inner_text()
    assert "setting 'bogus' is not supported" in problem.inner_text()
    listed = server.client.get(f"/simulations/{simulation}/config/files").json()["files"]
    assert all(file["edit"] is None for file in listed)

    # the period ends in 2013 instead of 2020
    _open_file(page, "localdomain.json")
    domain = json.loads(page.locator("textarea.json-text").input_value())
    assert domain["LocalDomain"]["end_date"] == "2021/01/01"
    domain["LocalDomain"]["end_date"] = "2014/01/01"
    page.locator("textarea.json-text").fill(json.dumps(domain, indent=2))
    page.click("button[data-action=save-file]")
    page.wait_for_selector("select[name=config-file] option:text('localdomain.json — edited (patch)')",
                           state="attached")
    assert page.locator(".file-edit-state").inner_text() == "This file is edited (patch)."
    listed = server.client.get(f"/simulations/{simulation}/config/files").json()["files"]
    assert {file["name"]: file["edit"] for file in listed if file["edit"]} == \
        {"localdomain.json": "patch"}
    saved = server.client.get(f"/simulations/{simulation}/config/files/localdomain").json()
    assert saved == domain

    page.goto(ui(server, f"simulations/{simulation}/run"))
    page.click("#run-simulation:enabled")
    page.wait_for_selector(".job-panel[data-status=successful]", timeout=RUN_TIMEOUT_MS)
    page.goto(ui(server, f"simulations/{simulation}/results"))
    page.wait_for_selector(".summary-table", state="attached")
    years = page.eval_on_selector_all(".summary-table tbody tr",
                                      "rows => rows.map(r => r.cells[0].textContent.trim())")
    assert years == ["2010", "2011", "2012", "2013"]

    page.goto(ui(server, f"simulations/{simulation}/config"))
    page.click("#project-files > summary")
    _open_file(page, "localdomain.json")
    page.click("button[data-action=reset-file]")
    page.wait_for_selector(".file-edit-state:text('This file is as generated.')")
    reset = server.client.get(f"/simulations/{simulation}/config/files/localdomain").json()
    assert reset["LocalDomain"]["end_date"] == "2021/01/01"


def test_an_edit_that_no_longer_applies_is_linked_to_the_files(server, page):
    cbm_defaults()
    created = server.client.post("/simulations/demo", json={"title": "stale edit"})
    simulation = created.json()["id"]
    modules = server.client.get(f"/simulations/{simulation}/config/files/modules_cbm").json()
    assert server.client.put(f"/simulations/{simulation}/config/files/modules_cbm",
                             json=modules).status_code == 200
    rasters = server.client.get(f"/simulations/{simulation}/inputs").json()["disturbances"]
    fire = next(item["name"] for item in rasters if item["layer"] == "fire_2012")
    assert server.client.delete(
        f"/simulations/{simulation}/inputs/disturbances/{fire}").status_code == 204

    page.goto(ui(server, f"simulations/{simulation}/inputs"))
    item = page.locator(".readiness li").first
    item.wait_for(state="attached")
    assert "fire_2012" in item.text_content()
    assert item.locator("a").get_attribute("href").endswith(f"/{simulation}/config")
    page.goto(ui(server, f"simulations/{simulation}/config"))
    box = page.locator("#project-files[open] .problem")  # opened: the edit is fixed there
    box.wait_for()
    assert "no longer applies" in box.inner_text() and "fire_2012" in box.inner_text()
    assert "replaced" in page.inner_text("select[name=config-file]")
    _open_file(page, "modules_cbm.json")
    page.click("button[data-action=reset-file]")
    page.wait_for_selector(".file-edit-state:text('This file is as generated.')")
    assert server.client.get(f"/simulations/{simulation}").json()["ready"] is True
