"""Browser tests of the web UI: a real `flintcloud serve` on a free loopback port with its own
data directory, driven by Debian's Chromium through Playwright (never `playwright install`:
the browser is the system's). Without Chromium or Playwright the tests skip, except in CI
(CI=true), where that is a failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.served import ServedProcess

CHROMIUM = Path(os.environ.get("FLINTCLOUD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}


def _require_browser() -> None:
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "playwright is not installed (pip install -e '.[test]')"
    if problem is None and not CHROMIUM.exists():
        problem = (f"Chromium not found at {CHROMIUM} (apt-get install --no-install-recommends "
                   "chromium, or `bash .ci/run` as root)")
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run: {problem}")
        pytest.skip(problem)


class Server(ServedProcess):
    """`flintcloud serve` for the browser (see tests/served.py)."""


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    _require_browser()
    running = Server(tmp_path_factory.mktemp("ui-server"))
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory):
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS, headless=True, viewport=VIEWPORT, accept_downloads=True)
        context.set_default_timeout(20_000)
        yield context
        context.close()


class PageErrors(list):
    """Uncaught exceptions and console errors of a page (a failed request the UI handles is
    reported by Chromium as "Failed to load resource": those are expected, not errors)."""

    def watch(self, page) -> None:
        page.on("pageerror", lambda error: self.append(f"uncaught: {error}"))
        page.on("console", lambda message: self.append(f"console: {message.text}")
                if message.type == "error" and not message.text.startswith("Failed to load resource")
                else None)


@pytest.fixture
def page(browser_context):
    """A fresh tab; the test fails if the page threw or logged an error."""
    tab = browser_context.new_page()
    errors = PageErrors()
    errors.watch(tab)
    yield tab
    tab.close()
    assert not errors, errors
