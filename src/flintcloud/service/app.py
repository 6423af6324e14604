"""`create_app(settings)`: the FastAPI application. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from flintcloud import __version__
from flintcloud.service.openapi import build_openapi
from flintcloud.service.problems import BodySizeLimit, install_problem_handlers
from flintcloud.service.routers import maps, metrics, ogc, scenarios, simulations, upstream
from flintcloud.service.services import Services
from flintcloud.service.ui import mount_ui
from flintcloud.settings import Settings

DESCRIPTION = """FLINT and GCBM carbon models as a service.

* **OGC API - Processes**: `/processes`, `/processes/{id}/execution`, `/jobs`.
* **Simulations**: GCBM projects built by uploads and configuration edits, run as jobs.
* **Upstream FLINT.Cloud** endpoints (`/point`, `/rothc`, `/gcbm/...`), with its bugs fixed.
* **Web UI** at [`/ui/`](/ui/): run the examples, build and run GCBM simulations, see results.

Errors are RFC 9457 problem details (`application/problem#json`). When the server has bearer
tokens configured, send `Authorization: Bearer <token>`; jobs and simulations are then visible to
their owner only.""".replace("#", "+")


def create_app(settings: Settings, *, services: Services | None = None,
               lifespan: Callable[[FastAPI], AbstractAsyncContextManager] | None = None) -> FastAPI:
    """The app for these settings (`services` may be passed to share them, e.g. in tests;
    `lifespan` runs around serving, e.g. the worker pool of `flintcloud serve`)."""
    app = FastAPI(title="FLINT Cloud", version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.services = services or Services.build(settings)
    install_problem_handlers(app)

    def openapi() -> dict:  # problem+json errors, bearerAuth only with tokens: openapi.py
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, auth=app.state.services.auth.enabled)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/openapi.json", name="openapi_json", include_in_schema=False)
    def openapi_json() -> JSONResponse:
        return JSONResponse(app.openapi())

    # Upstream served its swagger at /spec; OGC calls the API definition /api.
    app.add_api_route("/spec", openapi_json, include_in_schema=False, name="spec")
    app.add_api_route("/api", openapi_json, include_in_schema=False, name="api")

    # Swagger UI and ReDoc from the package (fastapi-offline ships their bundles), not from a
    # CDN: the documentation works without internet and loads nothing from elsewhere.
    app.mount("/docs/assets", StaticFiles(directory=str(files("fastapi_offline") / "static")),
              name="docs_assets")

    def asset(request: Request, name: str) -> str:
        return str(request.url_for("docs_assets", path=name))

    @app.get("/docs", name="swagger_ui", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=str(request.url_for("openapi_json")),
                                   title="FLINT Cloud API",
                                   swagger_js_url=asset(request, "swagger-ui-bundle.js"),
                                   swagger_css_url=asset(request, "swagger-ui.css"),
                                   swagger_favicon_url=asset(request, "favicon.png"))

    @app.get("/redoc", name="redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        page = get_redoc_html(openapi_url=str(request.url_for("openapi_json")),
                              title="FLINT Cloud API", with_google_fonts=False,
                              redoc_js_url=asset(request, "redoc.standalone.js"),
                              redoc_favicon_url=asset(request, "favicon.png"))
        # ReDoc's bundle always shows its vendor's logo from a CDN: same-origin images only.
        page.headers["Content-Security-Policy"] = "img-src 'self' data:"
        return page

    app.include_router(ogc.router)
    app.include_router(simulations.router)
    app.include_router(scenarios.router)
    app.include_router(maps.router)
    app.include_router(upstream.router)
    app.include_router(metrics.router)
    mount_ui(app, basemap_url=settings.map_basemap_url)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["*"], allow_headers=["*"],
                           expose_headers=["Location", "Idempotent-Replayed"])
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_bytes,
                       max_json_bytes=settings.max_json_bytes)
    return app
