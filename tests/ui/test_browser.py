"""The web UI in Chromium against a real server: the Point example charted and equal to moja.cli's
reference, the GCBM demo uploaded, run and shown as charts and a map, upload and configuration
errors shown where they belong, and a server with authentication."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest

from tests.conftest import shared_path
from tests.ui.conftest import Server

RUN_TIMEOUT_MS = 120_000


def ui(server, route: str = "") -> str:
    return f"{server.url}/ui/#/{route}"


def reference_stock(name: str) -> tuple[list[str], list[list[str]]]:
    """moja.cli's stock table: (columns, rows as strings), trailing empty cells dropped."""
    lines = shared_path("data/flint-examples/reference", name).read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("notification,"))
    table = []
    for line in lines[start:]:
        if not line or line.startswith("="):
            break
        table.append(line.rstrip(",").split(","))
    return table[0], table[1:]


@pytest.fixture(scope="session")
def demo_zip(tmp_path_factory):
    """Upstream's raw GCBM demo upload plus an attributes.json with each layer's table, taken
    from the complete demo project's layer JSONs (a raster cannot say what its values mean)."""
    with zipfile.ZipFile(shared_path("data/gcbm-demo/gcbm-project-demo.zip")) as project:
        documents = {name: json.loads(project.read(name)) for name in project.namelist()
                     if name.startswith("layers/tiled/") and name.endswith(".json")}
    attributes = {name.split("/")[-1][:-5]: document["attributes"]
                  for name, document in documents.items() if "attributes" in document}
    path = tmp_path_factory.mktemp("demo") / "gcbm-demo.zip"
    with zipfile.ZipFile(shared_path("data/gcbm-demo/gcbm-upload-demo.zip")) as source, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for member in source.infolist():
            if not member.is_dir():
                bundle.writestr(member.filename, source.read(member))
        bundle.writestr("attributes.json", json.dumps(attributes))
    return path


def test_point_run_charts_every_pool_and_equals_the_reference(server, page, tmp_path):
    columns, rows = reference_stock("default_point_output.csv")
    pools = columns[5:]
    page.goto(ui(server, "examples/point"))
    page.fill("input[aria-label='TestModule1 ratio 1']", "0.4")  # the form is editable
    page.click("#run-point")
    page.wait_for_selector(".stock-results path.series")
    lines = page.locator(".stock-results path.series")
    assert lines.count() == len(pools) == 3
    assert [lines.nth(i).get_attribute("data-series") for i in range(3)] == pools
    assert all(lines.nth(i).get_attribute("data-points") == str(len(rows)) for i in range(3))
    points = page.eval_on_selector_all(".stock-results circle.point",
                                       "dots => dots.map(d => [d.dataset.series, +d.dataset.x, +d.dataset.y])")
    assert len(points) == 3 * len(rows) == 183
    expected = {(pool, int(row[1])): float(row[5 + k]) for row in rows for k, pool in enumerate(pools)}
    assert all(expected[(series, step)] == value for series, step, value in points)
    assert page.locator(".legend button").count() == 3
    # the table shows moja.cli's numbers as printed
    cells = page.eval_on_selector_all(".stock-table tbody tr",
                                      "trs => trs.map(tr => [...tr.children].map(c => c.textContent))")
    assert [[cell[0], *cell[2:]] for cell in cells] == [[row[1], *row[5:]] for row in rows]
    assert cells[1][2] == "119"
    # hovering shows every pool at one step
    page.hover(".stock-results svg .overlay", position={"x": 5, "y": 40})
    assert re.search(r"Step \d+", page.inner_text(".chart-tooltip"))
    page.screenshot(path=tmp_path / "point.png", full_page=True)
    # the CSV download is moja.cli's output
    with page.expect_download() as download:
        page.click("[data-download=stock]")
    text = open(download.value.path(), encoding="utf-8").read()
    ignore = ("Started:", "Finished:")
    reference = shared_path("data/flint-examples/reference/default_point_output.csv").read_text()
    assert [line for line in text.splitlines() if not line.startswith(ignore)] == \
        [line for line in reference.splitlines() if not line.startswith(ignore)]
    # the job is listed, and its page charts it again
    page.goto(ui(server, "jobs?process=point"))
    page.wait_for_selector("table.data tbody tr")
    assert page.locator("table.data tbody tr .badge-successful").count() >= 1
    page.click("table.data tbody tr th a")
    page.wait_for_selector(".stock-results path.series")
    assert page.locator(".stock-results path.series").count() == 3


def test_rothc_climate_table_is_editable_and_runs(server, page):
    page.goto(ui(server, "examples/rothc"))
    rain = page.locator("input[aria-label='Rainfall (mm), step 1']")
    assert rain.input_value() == "24"
    assert page.locator("table.climate tbody tr").count() == 49
    page.get_by_label("Clay fraction").fill("0.5")
    page.click("#run-rothc")
    page.wait_for_selector(".stock-results path.series")
    shown = page.eval_on_selector_all(".stock-results path.series", "paths => paths.map(p => p.dataset.series)")
    assert shown == ["SoilDPM", "SoilRPM", "SoilBioF", "SoilBioS", "SoilHUM", "SoilIOM"]


def test_gcbm_demo_upload_run_summary_and_map(server, page, demo_zip, tmp_path):
    page.goto(ui(server, "simulations"))
    page.fill("input[name=title]", "Demo in the browser")
    page.set_input_files("input[name=project]", str(demo_zip))
    page.click("text=Create simulation")
    page.wait_for_selector(".config-form")
    assert page.locator(".attribute-table").count() == 9
    assert page.locator(".sim-status .ready.yes").count() == 1
    page.click(".stepper >> text=Run")
    page.click("#run-simulation")
    page.wait_for_selector(".job-panel[data-status=successful]", timeout=RUN_TIMEOUT_MS)
    assert page.get_attribute(".job-panel .progress", "aria-valuenow") == "100"
    page.click("text=See the results →")

    stocks = page.locator("figure[data-group='Carbon stocks']")
    stocks.locator("path.series").first.wait_for()
    assert stocks.locator("path.series").count() == 4
    simulation = page.url.split("/simulations/")[1].split("/")[0]
    years = server.client.get(f"/simulations/{simulation}/summary").json()["years"]
    assert stocks.locator("path.series").first.get_attribute("data-points") == str(len(years)) == "11"
    first = stocks.locator("circle.point[data-series='Ecosystem']").first
    assert float(first.get_attribute("data-y")) == years[0]["total_ecosystem_tc"]
    assert page.locator("figure[data-group='Carbon fluxes'] path.series").count() == 4
    assert page.locator("figure[data-group='Disturbed area by type'] rect.bar").count() > 0
    assert page.locator(".summary-table tbody tr").count() == 11

    image = page.locator("img.map-image[data-loaded=true]")
    image.wait_for()
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [400, 400]
    assert "Total_Ecosystem_C 2010" in page.inner_text(".map-legend")
    page.locator(".map-frame").click()  # its centre, in the study area: pins the value there
    page.wait_for_function("() => /°N, .*°W: /.test(document.querySelector('.map-readout').textContent)")
    page.select_option("#map-year", "2015")
    page.wait_for_selector("img.map-image[data-loaded=true][alt$='2015']")
    page.wait_for_timeout(300)  # let the chart and map settle for the screenshot
    page.screenshot(path=tmp_path / "gcbm-results.png", full_page=True)


def test_invalid_upload_shows_each_files_problem(server, page):
    simulation = server.client.post("/simulations", json={"title": "bad upload"}).json()["id"]
    page.goto(ui(server, f"simulations/{simulation}/inputs"))
    page.set_input_files(".dropzone input[type=file]",
                         files=[{"name": "fake.tiff", "mimeType": "image/tiff", "buffer": b"not a tiff"}])
    page.select_option("select[name=category]", "classifiers")
    page.click("button:text('Upload')")
    problem = page.locator(".upload-problems .problem")
    problem.wait_for()
    text = problem.inner_text()
    assert "Upload rejected" in text and "classifiers.fake.tiff" in text and "not a GeoTIFF" in text
    assert "Traceback" not in text
    assert page.locator("text=None uploaded.").count() == 4  # nothing was kept


def test_configuration_errors_are_shown_next_to_their_fields(server, page):
    simulation = server.client.post("/simulations", json={"title": "bad config"}).json()["id"]
    page.goto(ui(server, f"simulations/{simulation}/config"))
    page.fill("[data-field='spinup.minimum_rotation'] input", "0")
    page.click("text=Save configuration")
    error = page.locator("[data-field='spinup.minimum_rotation'] .field-error")
    error.wait_for()
    assert "greater than or equal to 1" in error.inner_text()
    assert page.get_attribute("[data-field='spinup.minimum_rotation'] input", "aria-invalid") == "true"
    assert "The configuration was not saved" in page.inner_text(".config-problems")
    page.fill("[data-field='spinup.minimum_rotation'] input", "12")
    page.fill("[data-field='end_date'] input", "2005-01-01")
    page.click("text=Save configuration")
    page.wait_for_selector(".config-problems .problem:has-text('end_date must be after start_date')")
    page.fill("[data-field='end_date'] input", "2015-01-01")
    page.click("text=Save configuration")
    page.wait_for_selector("text=Configuration saved.")
    saved = server.client.get(f"/simulations/{simulation}/config").json()
    assert (saved["end_date"], saved["spinup"]["minimum_rotation"]) == ("2015-01-01", 12)


@pytest.fixture(scope="module")
def secured_server(tmp_path_factory, browser_context):  # no server without a browser
    running = Server(tmp_path_factory.mktemp("ui-auth"), auth_tokens={"s3cret": "alice"})
    yield running
    running.stop()


def test_with_auth_on_the_token_is_asked_kept_for_the_tab_and_sent(secured_server, page):
    page.goto(ui(secured_server, "jobs"))
    problem = page.locator(".problem")
    problem.wait_for()
    assert "Unauthorized" in problem.inner_text()
    page.click("#token-button")
    page.fill("#token-input", "s3cret")
    page.click("#token-dialog button[value=save]")
    page.wait_for_selector("text=No jobs match.")
    assert page.evaluate("sessionStorage.getItem('flintcloud.token')") == "s3cret"
    page.goto(ui(secured_server, "examples/point"))
    page.click("#run-point")
    page.wait_for_selector(".stock-results path.series")
    with page.expect_download() as download:
        page.click("[data-download=stock]")
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert any(row[:2] == ["onOutputStep", "60"] for row in rows)


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory, browser_context):
    """A server without workers: its jobs stay queued until cancelled."""
    running = Server(tmp_path_factory.mktemp("ui-idle"), workers=0)
    yield running
    running.stop()


def test_a_queued_run_is_shown_and_cancelled(idle_server, page, demo_zip):
    client = idle_server.client
    simulation = client.post("/simulations", json={"title": "to cancel"}).json()["id"]
    with open(demo_zip, "rb") as bundle:
        assert client.post(f"/simulations/{simulation}/files",
                           files=[("files", ("demo.zip", bundle))]).status_code == 200
    page.goto(ui(idle_server, f"simulations/{simulation}/run"))
    page.click("#run-simulation")
    panel = page.locator(".job-panel[data-status=accepted]")
    panel.wait_for()
    assert "queued" in panel.inner_text().lower()
    assert page.get_attribute(".job-panel .progress", "aria-valuenow") == "0"
    assert page.is_disabled("#run-simulation")  # one run at a time
    page.click("text=Cancel run")
    page.click("dialog.confirm button[value=ok]")
    page.wait_for_selector(".job-panel[data-status=dismissed]")
    job = page.get_attribute(".job-panel", "data-job")
    assert client.get(f"/jobs/{job}").json()["status"] == "dismissed"
    assert page.is_enabled("#run-simulation")


def test_attribute_tables_are_edited_row_by_row(idle_server, page, demo_zip):
    client = idle_server.client
    simulation = client.post("/simulations", json={"title": "attributes"}).json()["id"]
    with open(demo_zip, "rb") as bundle:
        client.post(f"/simulations/{simulation}/files", files=[("files", ("demo.zip", bundle))])
    page.goto(ui(idle_server, f"simulations/{simulation}/config"))
    table = page.locator(".attribute-table[data-layer=Classifier2]")
    table.locator("summary").click()
    assert table.locator("tbody tr").count() == 4
    remove = table.locator("button[aria-label='Remove this Classifier2 row']")
    remove.nth(2).click()
    remove.nth(1).click()
    table.locator("tbody tr").first.locator("input").nth(1).fill("5")
    # the layer's pixel values come from the raster: two have no row now
    table.locator("text=Add rows for 2 values without a row").wait_for()
    page.click("text=Save configuration")
    page.wait_for_selector("text=Configuration saved.")
    saved = client.get(f"/simulations/{simulation}/config").json()["attributes"]["Classifier2"]
    assert saved == {"1": "5", "4": "8"}  # removed rows were sent as null (merge patch)
