"""Serving the web UI (`flintcloud/ui/static`, package data) at `/ui/`.

The UI is static: its pages call the API from the browser. Its responses carry a strict
Content-Security-Policy, so the page can load nothing but the service's own files (no CDN, no
inline script) and talk to nothing but the service; the one exception is the images of a
basemap the deployment sets (`map_basemap_url`), whose origin the policy then allows.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

UI_PATH = "/ui"
UI_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' blob: data:; connect-src 'self'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",  # revalidate (ETag): an upgraded server serves its own UI
}


def ui_directory() -> Path:
    return Path(str(resources.files("flintcloud.ui").joinpath("static")))


def ui_headers(basemap_url: str | None = None) -> dict[str, str]:
    """The UI's headers; with a basemap, its tiles' origin may serve images too."""
    if not basemap_url:
        return dict(UI_HEADERS)
    parts = urlsplit(basemap_url.replace("{s}", "*"))
    origin = f"{parts.scheme}://{parts.netloc}".replace("{", "").replace("}", "")
    policy = UI_HEADERS["Content-Security-Policy"].replace(
        "img-src 'self' blob: data:;", f"img-src 'self' blob: data: {origin};")
    return UI_HEADERS | {"Content-Security-Policy": policy}


class _UiFiles(StaticFiles):
    def __init__(self, *args, headers: dict[str, str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        response.headers.update(self.headers)
        return response


def mount_ui(app: FastAPI, *, basemap_url: str | None = None) -> None:
    """`/ui/` serves the UI's files (`index.html` for the folder); `/ui` redirects there."""

    @app.get(UI_PATH, include_in_schema=False, name="ui_redirect")
    def ui_redirect(request: Request) -> RedirectResponse:
        return RedirectResponse(str(request.url_for("ui", path="/")), status_code=307)

    app.mount(UI_PATH, _UiFiles(directory=ui_directory(), html=True,
                                headers=ui_headers(basemap_url)), name="ui")
