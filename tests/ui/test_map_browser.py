"""The results map in Chromium with the network off (every request to anything but the test
server is aborted): the demo run's tiles load from the service, zoomed to pixel level the
read-out equals the GeoTIFF's value at that point, the year slider changes the tiles, and the
legend names the indicator and its unit."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import numpy as np
import pytest
from rasterio.io import MemoryFile

from tests.ui.test_browser import RUN_TIMEOUT_MS, ui
from tests.ui.test_browser import demo_zip as demo_zip  # the fixture  # noqa: F401

INDICATOR = "Total_Ecosystem_C"


@pytest.fixture(scope="module")
def demo_run(server, demo_zip):  # noqa: F811
    """The upstream demo uploaded and run through the API: (simulation id, catalogue)."""
    client = server.client
    simulation = client.post("/simulations", json={"title": "Map offline"}).json()["id"]
    with open(demo_zip, "rb") as bundle:
        upload = client.post(f"/simulations/{simulation}/files",
                             files=[("files", ("demo.zip", bundle.read()))])
    assert upload.status_code == 200, upload.text
    run = client.post(f"/simulations/{simulation}/run")
    assert run.status_code == 201, run.text
    job = run.json()["jobID"]
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while (status := client.get(f"/jobs/{job}").json()["status"]) not in ("successful", "failed"):
        assert time.monotonic() < deadline, "the demo run did not finish"
        time.sleep(0.5)
    assert status == "successful"
    return simulation, client.get(f"/simulations/{simulation}/maps").json()


def offline(page, server) -> list[str]:
    """Abort every request that does not go to the test server; the aborted URLs."""
    blocked: list[str] = []
    here = urlsplit(server.url).netloc

    def handle(route):
        if urlsplit(route.request.url).netloc == here:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    return blocked


def geotiff_value(server, simulation: str, year: str, lon: float, lat: float) -> float | None:
    """The value of the run's COG at (lon, lat), read by rasterio from the downloaded file."""
    cog = server.client.get(f"/simulations/{simulation}/outputs/cog/{INDICATOR}_{year}.tif")
    assert cog.status_code == 200
    with MemoryFile(cog.content) as memory, memory.open() as raster:
        row, col = raster.index(lon, lat)
        value = raster.read(1, masked=True)[row, col]
    return None if value is np.ma.masked else float(value)


def test_demo_map_tiles_offline_pixel_values_years_and_legend(server, page, demo_run):
    simulation, catalogue = demo_run
    assert catalogue["basemap"] is None
    item = next(item for item in catalogue["indicators"] if item["indicator"] == INDICATOR)
    years = item["years"]
    blocked = offline(page, server)
    tiles: list[str] = []  # the tile URLs the page loaded
    page.on("response", lambda response: tiles.append(response.url)
            if "/tiles/" in response.url and response.ok else None)

    page.goto(ui(server, f"simulations/{simulation}/results"))
    page.wait_for_selector(".map-frame[data-loaded=true]")
    assert page.get_attribute(".map-frame", "data-indicator") == INDICATOR
    assert page.get_attribute(".map-frame", "data-year") == years[0]
    shown = page.eval_on_selector_all(".map-tiles img", "imgs => imgs.filter(i => i.complete && i.naturalWidth === 256).length")
    assert shown > 0 and tiles
    assert all(f"/maps/{INDICATOR}/{years[0]}/tiles/" in url for url in tiles)
    # the legend: the indicator's name and its unit, from the API (the run's manifest)
    legend = page.locator(".map-legend")
    assert page.inner_text(".map-legend .legend-title").startswith(f"{INDICATOR} {years[0]}")
    assert legend.get_attribute("data-unit") == item["unit"] == "tC/ha"
    assert f"({item['unit']})" in legend.inner_text()
    assert page.locator(".leaflet-control-scale-line").count() == 1

    # zoom to pixel level on the middle of the data, then click there: the read-out is the
    # GeoTIFF's value at the clicked point
    info = server.client.get(f"/simulations/{simulation}/maps/{INDICATOR}/{years[0]}").json()
    west, south, east, north = info["data_bounds"]
    page.evaluate("([lat, lon, zoom]) => document.querySelector('.map-frame').flintMap.setView([lat, lon], zoom, {animate: false})",
                  [(south + north) / 2, (west + east) / 2, info["tiles"]["max_display_zoom"]])
    page.wait_for_function("() => [...document.querySelectorAll('.map-tiles img')].some(i => i.complete && i.naturalWidth)")
    page.locator(".map-frame").click()  # its centre
    page.wait_for_function("() => /°N, .*°W: /.test(document.querySelector('.map-readout').textContent)"
                           " && document.querySelector('.map-readout').dataset.value !== undefined")
    readout = page.locator(".map-readout")
    lon, lat = float(readout.get_attribute("data-lon")), float(readout.get_attribute("data-lat"))
    expected = geotiff_value(server, simulation, years[0], lon, lat)
    value = readout.get_attribute("data-value")
    assert (float(value) if value else None) == expected and expected is not None
    assert "tC/ha" in readout.inner_text()
    # at pixel level one raster pixel covers many screen pixels (nearest: no blending)
    zoom = page.evaluate("() => document.querySelector('.map-frame').flintMap.getZoom()")
    metres_per_px = 156543.03 * np.cos(np.radians(lat)) / 2 ** zoom
    assert metres_per_px * 4 < 0.00025 * 111_320 * np.cos(np.radians(lat))

    # the year slider: the next year's tiles replace these, and they differ
    before = {urlsplit(url).path: url for url in tiles}
    page.locator("#map-year").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_selector(f".map-frame[data-loaded=true][data-year='{years[1]}']")
    assert page.inner_text(".map-year-label") == years[1]
    page.wait_for_function(f"() => document.querySelector('.map-legend .legend-title').textContent.startsWith('{INDICATOR} {years[1]}')")
    later = [url for url in tiles if f"/{years[1]}/tiles/" in url]
    assert later and set(later).isdisjoint(before.values())
    # the same tiles of both years, as the page asked for them (its scale in the query)
    pairs = [(url, before.get(urlsplit(url).path.replace(f"/{years[1]}/tiles/", f"/{years[0]}/tiles/")))
             for url in later]
    bodies = [(server.client.get(new).content, server.client.get(old).content) for new, old in pairs if old]
    assert bodies and any(new != old for new, old in bodies)
    # the pinned point's read-out follows the year
    page.wait_for_function(f"() => document.querySelector('.map-readout').textContent.includes('{years[1]})')")
    value = page.get_attribute(".map-readout", "data-value")
    assert (float(value) if value else None) == geotiff_value(server, simulation, years[1], lon, lat)
    assert blocked == []  # nothing outside the server was even asked for
