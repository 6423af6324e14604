"""Point and RothC in Chromium: the forms edit variables and modules too, and the whole
configuration as JSON; a configuration FLINT cannot run (FLINT-UI's null pools) is answered with
its problem and JSON path next to the JSON, and a fixed one runs with the edited pools."""

from __future__ import annotations

import json

from tests.ui.test_browser import ui


def test_point_configuration_edited_as_json_and_checked(server, page):
    page.goto(ui(server, "examples/point"))
    page.wait_for_selector("#run-point")
    assert page.locator("input[aria-label='TestModule2 enabled']").is_checked()
    assert page.locator("input[aria-label='Variable variable 1']").input_value() == "1"

    page.click(".whole-config > summary")
    editor = page.locator(".whole-config textarea.json-text")
    document = json.loads(editor.input_value())
    assert document["Pools"] == [{"Pool 1": 100.0}, {"Pool 2": 100.0}, {"Pool 3": 100.0}]

    # FLINT-UI's default configuration before its sliders are touched: pools without values
    document["Pools"] = [{"Pool 1": 100.0}, {"Pool 2": None}, {"Pool 3": 100.0}]
    editor.fill(json.dumps(document, indent=2))
    page.click("#run-point")
    problem = page.locator(".whole-config .json-problems li").first
    problem.wait_for()
    assert 'Pools[1]["Pool 2"]' in problem.inner_text()
    assert "pool 'Pool 2': expected a number, got None" in problem.inner_text()
    assert "FLINT cannot run this configuration" in page.inner_text(".run-slot")

    # fixed in the JSON and applied to the forms, then run: the run starts from the edited pools
    document["Pools"] = [{"Pool 1": 42.0}, {"Pool 2": 7.0}, {"Pool 3": 100.0}]
    document["LocalDomain"]["end_date"] = "1921/01/01"
    editor.fill(json.dumps(document, indent=2))
    page.click("button[data-action=apply-json]")
    assert page.get_by_label("Pool 1", exact=True).input_value() == "42"
    page.click("#run-point")
    page.wait_for_selector(".stock-results .stock-table tbody tr")
    first = page.eval_on_selector(".stock-table tbody tr",
                                  "row => [...row.children].map(cell => cell.textContent)")
    assert first[2:] == ["42", "7", "100"]
    assert page.locator(".stock-table tbody tr").count() < 61  # the example's steps: to 1924
