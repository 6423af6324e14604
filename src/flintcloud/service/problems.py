"""RFC 9457 problem details: every error response of the service is made here, by one handler.

A FlintError carries its HTTP status, code and title; validation errors list each field. The
user never sees a stack trace: unexpected exceptions are logged and answered with a plain 500.
Each problem also repeats its detail as `error`, the member upstream FLINT.Cloud's clients read.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from flintcloud.errors import FlintError
from flintcloud.service.errors import PayloadTooLargeError, UnauthorizedError, error_items

logger = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:flintcloud:error:"


def problem_response(*, status: int, code: str, title: str, detail: str, instance: str,
                     errors: list[dict] | None = None, type_uri: str | None = None,
                     headers: dict[str, str] | None = None, hint: str | None = None) -> JSONResponse:
    body = {"type": type_uri or f"{TYPE_PREFIX}{code}", "title": title, "status": status,
            "detail": detail, "instance": instance, "code": code, "error": detail}
    if hint:
        body["hint"] = hint
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def flint_error_response(err: FlintError, instance: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="flintcloud"'} \
        if isinstance(err, UnauthorizedError) else None
    return problem_response(status=err.http_status, code=err.code, title=err.title,
                            detail=err.message, instance=instance, errors=error_items(err),
                            type_uri=getattr(err, "type_uri", None), headers=headers, hint=err.hint)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(FlintError)
    async def _flint_error(request: Request, err: FlintError) -> JSONResponse:
        if err.http_status >= 500:
            logger.error("%s %s: %s", request.method, request.url.path, err.message)
        return flint_error_response(err, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(part) for part in e["loc"]), "message": e["msg"]}
                  for e in err.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(status=422, code="invalid_request", title="Invalid request",
                                detail=detail, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 400: "Bad request"}
        headers = dict(getattr(err, "headers", None) or {})
        if err.status_code == 405:  # Starlette names the first matching route's methods only
            allow = allowed_methods(request, headers.get("Allow"))
            if allow:
                headers["Allow"] = allow
        return problem_response(status=err.status_code, code=f"http_{err.status_code}",
                                title=titles.get(err.status_code, "HTTP error"),
                                detail=str(err.detail), instance=request.url.path,
                                headers=headers or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, err: Exception) -> JSONResponse:
        logger.exception("unexpected error in %s %s", request.method, request.url.path)
        return problem_response(status=500, code="internal", title="Internal error",
                                detail="unexpected server error; it has been logged",
                                instance=request.url.path)


def allowed_methods(request: Request, fallback: str | None) -> str | None:
    """Every method the API documents at this request's path (HEAD with GET), from the
    OpenAPI document's paths; `fallback` (Starlette's) for paths it does not describe."""
    methods: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in item}
    if not methods:
        return fallback
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


class BodySizeLimit:
    """ASGI middleware: 413 for a request body over the limit, whether or not it declares its
    Content-Length (chunked bodies are counted as they arrive), before anything is stored."""

    def __init__(self, app, *, max_bytes: int, max_json_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_bytes = max_json_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        is_json = headers.get(b"content-type", b"").split(b";")[0].strip().endswith(b"json")
        limit = self.max_json_bytes if is_json else self.max_bytes
        path = scope.get("path", "")
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._reject(send, limit, path)
            return
        state = {"received": 0, "exceeded": False, "started": False}

        async def limited_receive():
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["exceeded"] = True
                    raise PayloadTooLargeError(f"request body larger than {limit} bytes")
            return message

        async def guarded_send(message) -> None:
            if state["exceeded"]:
                return  # whatever the app answers to the aborted body, the answer is 413
            state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not state["exceeded"]:
                raise
        if state["exceeded"] and not state["started"]:
            await self._reject(send, limit, path)

    @staticmethod
    async def _reject(send, limit: int, path: str) -> None:
        response = problem_response(status=413, code="payload_too_large", title="Payload too large",
                                    detail=f"request body larger than the limit of {limit} bytes",
                                    instance=path, headers={"Connection": "close"})
        await send({"type": "http.response.start", "status": 413,
                    "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})
