"""The OpenAPI document as the server behaves: FastAPI's, completed with what it cannot see.

FastAPI documents each route's success and a 422 in its own JSON shape; every error of this
service is an RFC 9457 problem (`problems.py`), so each operation's error responses are listed
with `application/problem+json` and the `Problem` schema: the codes it answers by name, and
`4XX` for the rest of the client errors a generic layer can give (e.g. 413 from the body limit).
The bearer scheme is described only when the server has tokens (otherwise no operation needs
one). The document is OpenAPI 3.1, as the landing page's `service-desc` link says.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from flintcloud.service.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem", "type": "object",
    "description": "RFC 9457 problem details; `error` repeats `detail` for upstream's clients.",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"}, "code": {"type": "string"},
        "error": {"type": "string"}, "hint": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": ["string", "null"]}, "message": {"type": "string"},
            "code": {"type": "string"}, "source": {"type": "string"},
            "hint": {"type": "string"}}}}},
    "required": ["type", "title", "status", "detail"],
}
DESCRIPTIONS = {
    400: "A required upload field is missing", 401: "No or an unknown bearer token",
    403: "Another owner's job or simulation", 404: "Not found",
    409: "Conflict: a run in progress, results not ready, a title in use",
    413: "Request body or upload too large", 422: "Invalid input: every problem in `errors`",
    501: "No GCBM engine in this installation",
    504: "The synchronous wait timed out (the job goes on; see `Location`)",
    "4XX": "Another client error (problem details)",
}
_SYNC = {("post", "/point"), ("post", "/rothc"), ("post", "/processes/{process_id}/execution")}
_UPLOADS = ("/gcbm/upload", "/simulations/{simulation_id}/files")
_NOT_FOUND_FREE = {"/", "/conformance", "/processes", "/jobs", "/simulations", "/check",
                   "/version", "/gcbm/new", "/upload/title", "/gcbm/list", "/point", "/rothc"}


def _error_codes(path: str, method: str, operation: dict[str, Any],
                 auth: bool) -> list[int | str]:
    codes: set[int | str] = {"4XX"}
    if operation.get("parameters") or operation.get("requestBody"):
        codes.add(422)
    if path not in _NOT_FOUND_FREE:
        codes.add(404)
    if method in ("post", "patch", "delete") and \
            path.startswith(("/simulations", "/gcbm", "/jobs", "/processes")):
        codes.add(409)
    if operation.get("requestBody"):
        codes.add(413)
    if path.startswith(_UPLOADS):
        codes.add(400)
    if (method, path) in _SYNC:
        codes.add(504)
    if path in ("/gcbm/dynamic", "/simulations/{simulation_id}/run") or \
            path == "/processes/{process_id}/execution":
        codes.add(501)
    if auth and operation.get("security"):
        codes |= {401, 403}
    return sorted(codes, key=str)


def build_openapi(app: FastAPI, *, auth: bool) -> dict[str, Any]:
    """The app's OpenAPI 3.1 document (`auth`: whether bearer tokens are configured)."""
    document = get_openapi(title=app.title, version=app.version, openapi_version="3.1.0",
                           description=app.description, routes=app.routes)
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if not auth:
                operation.pop("security", None)
            responses = operation["responses"]
            for code in _error_codes(path, method, operation, auth):
                responses[str(code)] = {"description": DESCRIPTIONS[code], "content": problem}
    if not auth:
        components.pop("securitySchemes", None)
    schemas = components["schemas"]
    schemas.pop("HTTPValidationError", None)  # FastAPI's 422 body, replaced above
    if '"#/components/schemas/ValidationError"' not in json.dumps(document):
        schemas.pop("ValidationError", None)
    return document


__all__ = ["PROBLEM_SCHEMA", "build_openapi"]
