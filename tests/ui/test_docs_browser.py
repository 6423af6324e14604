"""The API documentation (`/docs`, Swagger UI; `/redoc`, ReDoc) in Chromium with every request
to anywhere but the server refused: the pages render the operations from the package's own
assets, as they must on a machine without internet."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.ui.conftest import PageErrors


@pytest.fixture
def offline_page(browser_context, server):
    """A tab whose every non-loopback request is aborted and recorded; the test fails if the
    page threw or logged an error, but for the browser's report of the CSP that keeps ReDoc's
    vendor logo (a CDN image) from being requested."""
    page = browser_context.new_page()
    errors = PageErrors()
    errors.watch(page)
    refused: list[str] = []

    def only_loopback(route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    yield page
    page.close()
    assert refused == []  # nothing was even asked of another host
    assert [error for error in errors if "violates the following Content Security Policy"
            not in error] == []


def test_swagger_ui_renders_the_operations_offline(offline_page, server):
    offline_page.goto(f"{server.url}/docs")
    operations = offline_page.locator(".opblock")
    operations.first.wait_for()
    assert operations.count() > 30
    assert offline_page.locator(".opblock-summary-path", has_text="/simulations/{simulation_id}/run").count() == 1


def test_redoc_renders_the_operations_offline(offline_page, server):
    offline_page.goto(f"{server.url}/redoc")
    offline_page.get_by_text("/processes/{process_id}/execution").first.wait_for(state="attached")
    assert offline_page.locator("[data-section-id^='operation/']").count() > 30
