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

    page.wait_for_selector(".map-frame[data-loaded=true][data-year='2010']")  # tiles: test_map_browser.py
    assert page.locator(".map-tiles img").count() > 0
    assert "Total_Ecosystem_C 2010" in page.inner_text(".map-legend")
    # what the item is and its unit, from the API (GET …/indicators); the main files' names too
    assert page.inner_text(".indicator-description") == \
        "All carbon in biomass, dead organic matter and soil (tC/ha)."
    main = page.eval_on_selector_all(".actions [data-download]", "buttons => buttons.map(b => b.dataset.download)")
    assert main == ["zip", "gcbm_output.db", "compiled_simulation_output.db", "annual_summary.csv", "manifest.json"]
    page.locator(".map-frame").click()  # its centre, in the study area: pins the value there
    page.wait_for_function("() => /°N, .*°W: /.test(document.querySelector('.map-readout').textContent)")
    page.locator("#map-year").focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_selector(".map-frame[data-loaded=true][data-year='2015']")
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
    assert "Upload rejected" in text and "fake.tiff" in text and "not a GeoTIFF" in text
    assert "upload a GeoTIFF" in text  # the problem's hint
    assert "Traceback" not in text
    assert page.locator("text=None uploaded.").count() == 4  # nothing was kept


def test_configuration_errors_are_shown_next_to_their_fields(server, page, tmp_path):
    simulation = server.client.post("/simulations", json={"title": "bad config"}).json()["id"]
    # a new simulation has no period or spatial unit (none is guessed): these are the user's
    server.client.patch(f"/simulations/{simulation}/config", json={
        "start_year": 2010, "end_year": 2020, "admin_boundary": "British Columbia",
        "eco_boundary": "Taiga Plains"})
    page.goto(ui(server, f"simulations/{simulation}/config"))
    # the form comes from the settings' schema: its defaults and ranges
    rotation = page.locator("[data-field='spinup.minimum_rotation'] input")
    assert rotation.input_value() == "10" and rotation.get_attribute("min") == "1"
    assert page.is_checked("[data-field='spinup.enabled'] input")
    assert page.locator("[data-field='outputs.geotiff_indicators'] input:checked").count() == 21
    # the indicators, their units and descriptions come from the API (GET …/config/indicators)
    npp = page.locator("[data-field='outputs.geotiff_indicators'] label:has(input[value=NPP])")
    assert npp.get_attribute("title") == "Net primary production (tC/ha/yr)"
    rotation.fill("0")
    page.click("text=Save configuration")
    error = page.locator("[data-field='spinup.minimum_rotation'] .field-error")
    error.wait_for()
    assert "greater than or equal to 1" in error.inner_text()
    assert rotation.get_attribute("aria-invalid") == "true"
    assert "The configuration was not saved" in page.inner_text(".config-problems")
    # fixed parameters: each missing one is named next to its field
    rotation.fill("12")
    assert error.inner_text() == ""  # a stale error clears once its field is edited
    assert rotation.get_attribute("aria-invalid") is None
    page.check("[data-field='spinup.parameters'] input")
    page.fill("[data-field='spinup.parameters.return_interval'] input", "150")
    page.click("text=Save configuration")
    missing = page.locator("[data-field='spinup.parameters.max_rotations'] .field-error")
    missing.wait_for()
    assert "Field required" in missing.inner_text()
    page.uncheck("[data-field='spinup.parameters'] input")
    # a period that ends before it starts is saved, and is then what stops a run, by its field
    page.fill("[data-field='end_year'] input", "2005")
    page.click("text=Save configuration")
    page.wait_for_selector("text=Configuration saved.")
    period = page.locator("[data-field='end_year'] .field-error")
    period.wait_for()
    assert "end_year 2005 is before start_year 2010" in period.inner_text()
    assert page.locator(".readiness a[href$='/config'] code:text-is('end_year')").count() == 1
    assert page.locator(".readiness a[href$='/inputs']").count() >= 1  # no database, no layers yet
    page.fill("[data-field='end_year'] input", "2014")
    page.uncheck("[data-field='growth.smoother_enabled'] input")
    page.click("[data-field='outputs.geotiff_indicators'] button:text('None')")
    page.check("[data-field='outputs.geotiff_indicators'] input[value=NPP]")
    page.check("[data-field='outputs.geotiff_indicators'] input[value=NBP]")
    page.fill("[data-field='admin_boundary'] input", "")
    page.fill("[data-field='eco_boundary'] input", "")
    page.click("text=Save configuration")
    page.wait_for_selector("text=Configuration saved.")
    page.wait_for_selector("[data-field='end_year'] .field-error:empty", state="attached")
    saved = server.client.get(f"/simulations/{simulation}/config").json()
    assert saved == {"start_year": 2010, "end_year": 2014, "layers": {},
                     "spinup": {"enabled": True, "minimum_rotation": 12},
                     "growth": {"smoother_enabled": False},
                     "outputs": {"geotiff_indicators": ["NPP", "NBP"], "results_database": True}}
    page.screenshot(path=tmp_path / "configure.png", full_page=True)


def test_api_field_names_map_to_the_form_fields(server, page):
    """The API names a field as the settings do (`layers.X.attributes.1`), as the checks of the
    inputs do (`X.attributes['1']`, `attributes` of a raster) or by a former name; the form has
    one name for each, and knows which problems the Configure step fixes."""
    page.goto(ui(server))
    mapped = page.evaluate("""async () => {
        const { formField, isConfigProblem, mergePatch } = await import("./js/config.js");
        const cases = [
            {field: "spinup.minimum_rotation"}, {field: "Classifier1.attributes['1']"},
            {field: "disturbances_2011.attributes['1'].disturbance_type"},
            {field: "layers.disturbances_2011.year"},
            {field: "attributes", source: "Classifier2_moja.tiff"},
            {field: "attributes.Classifier1.3"}, {field: "end_date"},
            {field: "start_year/end_year"}, {field: "admin_boundary/eco_boundary"},
            {field: "spatial_unit"}, {field: "inputs/db"}, {field: "layers"}, {field: "fake.tiff"}];
        return {
            fields: cases.map((item) => [formField(item), isConfigProblem(item)]),
            patch: mergePatch({a: 1, b: {c: 2, d: 3}, e: [1]}, {a: 1, b: {c: 4, d: null}, f: {g: null, h: 5}}),
        };
    }""")
    assert mapped["fields"] == [
        ["spinup.minimum_rotation", True], ["layers.Classifier1.attributes.1", True],
        ["layers.disturbances_2011.attributes.1.disturbance_type", True],
        ["layers.disturbances_2011.year", True], ["layers.Classifier2.attributes", True],
        ["layers.Classifier1.attributes.3", True], ["end_year", True], ["period", True],
        ["spatial_unit", True], ["spatial_unit", True], ["inputs/db", False], ["layers", False],
        ["fake.tiff", False]]
    assert mapped["patch"] == {"b": {"c": 4, "d": None}, "e": None, "f": {"h": 5}}


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
    page.wait_for_selector(".sim-status .badge[data-status=accepted]")  # the badge follows
    page.click("text=Cancel run")
    # the dialog's buttons say what they do
    assert page.inner_text("dialog.confirm button[value=cancel]") == "Keep it running"
    assert page.inner_text("dialog.confirm button[value=ok]") == "Stop the run"
    page.click("dialog.confirm button[value=ok]")
    page.wait_for_selector(".job-panel[data-status=dismissed]")
    page.wait_for_selector(".sim-status .badge[data-status=dismissed]")
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
    saved = client.get(f"/simulations/{simulation}/config").json()["layers"]["Classifier2"]
    assert saved == {"attributes": {"1": "5", "4": "8"}}  # removed rows were sent as null (merge patch)
    # the pixel values left without a row are what stops a run, shown by the table
    problems = page.locator(".attribute-table[data-layer=Classifier2] .attribute-rows > .field-error")
    problems.wait_for()
    assert "pixel values 2, 3 are not in its attribute table" in problems.inner_text()
    # a disturbance layer: its events' year, type and transition, and the layer's own year
    table = page.locator(".attribute-table[data-layer=disturbances_2013]")
    table.locator("summary").click()
    assert table.locator("tbody tr").count() == 2  # pixel values 1 and 2
    assert table.locator("[data-field='layers.disturbances_2013.year'] input").get_attribute("placeholder") == \
        "2013 (from the file name)"
    table.locator("tbody tr").nth(1).locator("input[aria-label$='disturbance type']").fill("No such type")
    table.locator("tbody tr").nth(1).locator("input[aria-label$='year']").fill("")
    page.click("text=Save configuration")
    page.wait_for_selector("text=Configuration saved.")
    table = page.locator(".attribute-table[data-layer=disturbances_2013]")
    error = table.locator(".attribute-rows > .field-error")
    error.wait_for()
    assert "unknown disturbance type 'No such type'" in error.inner_text()
    assert table.locator("tbody tr").nth(1).locator("input[aria-label$='disturbance type']") \
        .get_attribute("aria-invalid") == "true"
    event = client.get(f"/simulations/{simulation}/config").json()["layers"]["disturbances_2013"]
    assert event["attributes"]["2"] == {"disturbance_type": "No such type", "transition": 1}


def test_demo_simulation_in_one_click_runs_and_the_badge_follows(server, page):
    """No files: the synthetic project of `gcbm demo`; then Results only where a run succeeded,
    and what stops a run listed database first, in words, each hint once."""
    page.goto(ui(server, "simulations"))
    page.click("#create-demo")
    page.wait_for_selector("#run-simulation:enabled", timeout=RUN_TIMEOUT_MS)
    assert page.locator(".sim-status .ready.yes").count() == 1
    page.click("#run-simulation")
    page.wait_for_selector(".job-panel[data-status=successful]", timeout=RUN_TIMEOUT_MS)
    page.wait_for_selector(".sim-status .badge[data-status=successful]")
    demo = page.url.split("/simulations/")[1].split("/")[0]

    empty = server.client.post("/simulations", json={"title": "never run"}).json()["id"]
    page.goto(ui(server, "simulations"))
    page.wait_for_selector("table.data tbody tr")
    results = page.locator("a.button:text-is('Results')")
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any(demo in href for href in hrefs) and not any(empty in href for href in hrefs)

    page.goto(ui(server, f"simulations/{empty}/inputs"))
    items = page.locator(".readiness li")
    items.first.wait_for(state="attached")
    texts = [items.nth(i).text_content() for i in range(items.count())]  # folded: not visible
    assert texts[0].startswith("Input database:")
    assert not any("inputs/db" in text or "(inputs)" in text for text in texts)
    hints = [text.split(" — ", 1)[1] for text in texts if " — " in text]
    assert len(hints) == len(set(hints))
