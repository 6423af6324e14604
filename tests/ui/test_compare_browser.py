"""A scenario compared in Chromium: the demo simulation copied as a scenario with the button, a
setting changed (its 2012 fire becomes a clearcut), both run, then the Compare step shows both
series on each chart, the differences per year (equal to the two summaries'), and the
difference map, whose tiles load and whose legend is diverging, centred on 0, with the unit;
the network off but for the server."""

from __future__ import annotations

import time

import pytest

from tests.ui.test_browser import RUN_TIMEOUT_MS, ui
from tests.ui.test_map_browser import offline

CLEARCUT = "Clearcut harvesting with salvage"


def _run(server, simulation: str) -> None:
    client = server.client
    run = client.post(f"/simulations/{simulation}/run")
    assert run.status_code == 201, run.text
    job = run.json()["jobID"]
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while (status := client.get(f"/jobs/{job}").json()["status"]) not in ("successful", "failed"):
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.3)
    assert status == "successful"


def test_copy_as_scenario_run_both_and_compare(server, page):
    client = server.client
    created = client.post("/simulations/demo", json={"title": "Compare baseline"})
    if created.status_code != 201:
        pytest.fail(created.text)
    baseline = created.json()["id"]

    blocked = offline(page, server)
    # copy it as a scenario with the button, in the Compare step
    page.goto(ui(server, f"simulations/{baseline}/compare"))
    page.fill("#scenario-title", "Compare no fire")
    page.click("#copy-scenario")
    page.wait_for_url("**/config")
    scenario = page.url.split("/simulations/")[1].split("/")[0]
    assert scenario != baseline
    assert client.get(f"/simulations/{scenario}").json()["scenario_of"] == baseline
    # a setting changed on the copy: the 2012 fire becomes a clearcut
    patched = client.patch(f"/simulations/{scenario}/config", json={"layers": {"fire_2012": {
        "attributes": {"1": {"disturbance_type": CLEARCUT}}}}})
    assert patched.status_code == 200, patched.text
    for simulation in (baseline, scenario):
        _run(server, simulation)
    # the list names each scenario's baseline
    page.goto(ui(server, "simulations"))
    row = page.locator("table.data tbody tr", has=page.locator(f"a[href='#/simulations/{scenario}']"))
    assert row.locator(".scenario-of").inner_text() == " scenario of “Compare baseline”"

    page.goto(ui(server, f"simulations/{scenario}/compare"))
    page.wait_for_selector(".compare-charts figure")
    assert page.locator("#compare-with").input_value() == baseline  # its baseline first
    assert "(its baseline)" in page.locator("#compare-with option:checked").inner_text()
    # both series on one chart: this run solid, the baseline dashed
    stocks = page.locator(".compare-charts figure[data-group='Carbon stocks']")
    assert stocks.locator("path.series[data-series='Ecosystem']").count() == 1
    dashed = stocks.locator("path.series[data-series='Ecosystem (Compare baseline)']")
    assert dashed.count() == 1
    assert dashed.evaluate("p => p.style.strokeDasharray") != ""
    points = stocks.locator("circle.point").evaluate_all(
        "dots => dots.map(d => [d.dataset.series, +d.dataset.x, +d.dataset.y])")
    run_years = client.get(f"/simulations/{scenario}/summary").json()["years"]
    base_years = client.get(f"/simulations/{baseline}/summary").json()["years"]
    shown = {(series, year): value for series, year, value in points}
    for row in run_years:
        assert shown[("Ecosystem", row["year"])] == row["total_ecosystem_tc"]
    for row in base_years:
        assert shown[("Ecosystem (Compare baseline)", row["year"])] == row["total_ecosystem_tc"]
    # the differences table: one row per year both simulated
    rows = page.locator(".differences-table tbody tr")
    assert rows.count() == len(run_years)

    # the difference map of the two runs: tiles load, the legend is diverging around 0
    page.wait_for_selector(".compare-map .map-frame[data-loaded=true]", timeout=RUN_TIMEOUT_MS)
    tiles = page.eval_on_selector_all(".compare-map .map-tiles img",
                                      "imgs => imgs.filter(i => i.complete && i.naturalWidth === 256).length")
    assert tiles > 0
    legend = page.locator(".compare-map .map-legend")
    low, high = float(legend.get_attribute("data-min")), float(legend.get_attribute("data-max"))
    assert low == -high and high > 0
    assert legend.get_attribute("data-unit") == "tC/ha"
    title = page.inner_text(".compare-map .legend-title")
    assert title.startswith("Total_Ecosystem_C: 2020 minus 2020") and "(tC/ha)" in title
    # the map of two years of this run
    page.select_option("#compare-with", scenario)
    page.wait_for_function("() => document.querySelector('.compare-map .legend-title')?.textContent"
                           ".startsWith('Total_Ecosystem_C: 2020 minus 2010')")
    page.wait_for_selector(".compare-map .map-frame[data-loaded=true]")
    assert blocked == []  # nothing outside the server was asked for
