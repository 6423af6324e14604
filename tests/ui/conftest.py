"""Browser tests of the web UI: a real `flintcloud serve` on a free loopback port with its own
data directory, driven by Debian's Chromium through Playwright (never `playwright install`:
the browser is the system's). Without Chromium or Playwright the tests skip, except in CI
(CI=true), where that is a failure."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CHROMIUM = Path(os.environ.get("FLINTCLOUD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT_S = 60
VIEWPORT = {"width": 1280, "height": 900}


def _require_browser() -> None:
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "playwright is not installed (pip install -e '.[test]')"
    if problem is None and not CHROMIUM.exists():
        problem = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run: {problem}")
        pytest.skip(problem)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`flintcloud serve` in a subprocess; stopped with SIGTERM."""

    def __init__(self, folder: Path, *, workers: int = 2, **settings: object) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "FLINTCLOUD_HEARTBEAT_INTERVAL_S": "0.1",
               **{f"FLINTCLOUD_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
                  for name, value in settings.items()}}
        command = [str(Path(sys.executable).parent / "flintcloud"), "serve", "--port", str(self.port),
                   "--data-dir", str(folder / "data"), "--workers", str(workers)]
        self.log_path = folder / "server.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.client = httpx.Client(base_url=self.url, timeout=30)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._ready():
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the server did not start: {self.log_path.read_text()}")
            time.sleep(0.05)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the server exited: {self.log_path.read_text()}")
        try:
            return self.client.get("/check").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        self.client.close()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


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
