"""Errors only the service raises. Like every FlintError they carry their HTTP status and code,
so the single problem-details handler in `problems.py` maps them; routes never build responses
for errors themselves.
"""

from __future__ import annotations

from flintcloud.errors import FlintError, InputError, InputProblems, NotFoundError

OGC_EXCEPTIONS = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0"


def error_items(err: FlintError) -> list[dict[str, str]]:
    """An error's field-level list (RFC 9457 `errors`): every problem of an InputProblems, or
    the error itself when it names a field."""
    if isinstance(err, InputProblems):
        return [error_item(problem) for problem in err.problems]
    return [error_item(err)] if err.field else []


def error_item(err: FlintError) -> dict[str, str]:
    """{field, message, code, source, hint} of one error (field: its source when it has none)."""
    item = {"field": err.field or err.source or "inputs", "message": err.detail, "code": err.code}
    if err.source:
        item["source"] = err.source
    if err.hint:
        item["hint"] = err.hint
    return item


class MissingFileError(InputProblems):
    """Required upload fields are absent (upstream answered 400 here; so do we)."""

    code = "missing_file"
    title = "Missing file"
    http_status = 400


class PayloadTooLargeError(FlintError):
    code = "payload_too_large"
    title = "Payload too large"
    http_status = 413
    exit_code = 2


class UnauthorizedError(FlintError):
    code = "unauthorized"
    title = "Unauthorized"
    http_status = 401
    exit_code = 2


class ForbiddenError(FlintError):
    code = "forbidden"
    title = "Forbidden"
    http_status = 403
    exit_code = 2


class ConflictError(FlintError):
    code = "conflict"
    title = "Conflict"
    http_status = 409
    exit_code = 2


class IdempotencyKeyReusedError(InputError):
    """Same Idempotency-Key, different payload (draft-ietf-httpapi-idempotency-key-header: 422)."""

    code = "idempotency_key_reused"
    title = "Idempotency key reused with a different request"


class NoSuchProcessError(NotFoundError):
    code = "no_such_process"
    title = "No such process"
    type_uri = f"{OGC_EXCEPTIONS}/no-such-process"


class NoSuchJobError(NotFoundError):
    code = "no_such_job"
    title = "No such job"
    type_uri = f"{OGC_EXCEPTIONS}/no-such-job"


class ResultNotReadyError(NotFoundError):
    code = "result_not_ready"
    title = "Result not ready"
    type_uri = f"{OGC_EXCEPTIONS}/result-not-ready"


class JobTimeoutError(FlintError):
    """A synchronous execution did not finish in time; the job goes on and can be polled."""

    code = "sync_timeout"
    title = "Still running"
    http_status = 504


class GcbmEngineUnavailableError(FlintError):
    code = "engine_unavailable"
    title = "GCBM engine not available"
    http_status = 501


class JobFailedError(FlintError):
    """A failed job's results: the problem carries the failure's own code and HTTP status."""

    title = "Job failed"

    def __init__(self, detail: str, *, code: str, status: int) -> None:
        super().__init__(detail)
        self.code = code
        self.http_status = status
