"""OGC API - Processes: landing page, conformance, processes, execution and jobs."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from flintcloud.errors import InputError, NotFoundError
from flintcloud.service.deps import CallerDep, IdempotencyKey, ServicesDep
from flintcloud.service.jobs import JobStatus
from flintcloud.service.responses import file_response, in_thread, wait_for_job
from flintcloud.service.schemas import (
    CONFORMANCE,
    ExecuteRequest,
    JobList,
    ProcessDescription,
    ProcessList,
    StatusInfo,
    present_job,
    present_process,
    present_results,
)

router = APIRouter(tags=["OGC API - Processes"])


@router.get("/", name="landing_page", response_model=None,
            summary="Landing page (JSON; HTML for browsers, upstream's text when asked for)")
def landing_page(request: Request, f: str | None = None):
    # JSON unless another type is asked for by name: OGC clients such as OWSLib send `*/*`.
    # Browsers name text/html; upstream's plain text needs an explicit `text/plain`.
    chosen = f if f in ("json", "html", "text") else _negotiate(request.headers.get("accept", ""))
    if chosen == "html":
        urls = {"ui": request.url_for("ui", path="/"), "docs": request.url_for("swagger_ui"),
                "json": request.url_for("landing_page")}  # from the Host header: escaped
        return HTMLResponse(_LANDING_HTML.format(**{k: escape(str(url)) for k, url in urls.items()}))
    if chosen == "text":
        return PlainTextResponse("FLINT.Cloud API")

    def link(name: str, rel: str, title: str, media: str = "application/json") -> dict:
        return {"href": str(request.url_for(name)), "rel": rel, "type": media, "title": title}

    return {"title": "FLINT Cloud", "description": "FLINT and GCBM carbon models as a service",
            "links": [link("landing_page", "self", "this document"),
                      link("openapi_json", "service-desc", "the API definition",
                           "application/vnd.oai.openapi+json;version=3.1"),
                      link("swagger_ui", "service-doc", "the API documentation", "text/html"),
                      link("conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance",
                           "conformance classes"),
                      link("list_processes", "http://www.opengis.net/def/rel/ogc/1.0/processes",
                           "processes"),
                      link("list_jobs", "http://www.opengis.net/def/rel/ogc/1.0/job-list", "jobs"),
                      link("list_simulations", "simulations", "GCBM simulations"),
                      {"href": str(request.url_for("ui", path="/")), "rel": "alternate",
                       "type": "text/html", "title": "the web UI"}]}


_LANDING_TYPES = {"application/json": "json", "text/html": "html", "text/plain": "text"}


def _negotiate(accept: str) -> str:
    """"json", "html" or "text": the landing page's type named in `accept` with the highest
    quality (the first on a tie); wildcards and anything else name none of them: JSON."""
    best, best_quality = "json", 0.0
    for entry in accept.split(","):
        media, *parameters = (part.strip() for part in entry.split(";"))
        kind = _LANDING_TYPES.get(media.lower())
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if kind is not None and quality > best_quality:
            best, best_quality = kind, quality
    return best


_LANDING_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FLINT Cloud</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>FLINT Cloud API</h1>
<ul><li><a href="{ui}">Open the web UI</a> (simulations, charts and maps)</li>
<li><a href="{docs}">API documentation</a></li>
<li><a href="{json}?f=json">Landing page as JSON</a> (OGC API - Processes)</li></ul>
</body></html>
"""


@router.get("/conformance", name="conformance")
def conformance() -> dict:
    return {"conformsTo": CONFORMANCE}


@router.get("/processes", name="list_processes", response_model=ProcessList)
def list_processes(request: Request, services: ServicesDep) -> dict:
    return {"processes": [present_process(p, request, full=False) for p in services.registry],
            "links": [{"href": str(request.url_for("list_processes")), "rel": "self",
                       "type": "application/json"}]}


@router.get("/processes/{process_id}", name="get_process", response_model=ProcessDescription)
def get_process(process_id: str, request: Request, services: ServicesDep) -> dict:
    return present_process(services.registry.get(process_id), request, full=True)


@router.get("/processes/{process_id}/example", name="get_process_example")
def get_process_example(process_id: str, services: ServicesDep) -> dict:
    """An execute request with the process's example inputs (what the built-in example runs),
    to edit and post to `/processes/{id}/execution`."""
    definition = services.registry.get(process_id)
    if definition.example is None:
        raise NotFoundError(f"process {process_id!r} has no example inputs")
    return {"inputs": definition.example()}


@router.post("/processes/{process_id}/execution", name="execute_process",
             response_model=None, status_code=200,
             responses={200: {"description": "Synchronous execution: the results document"},
                        201: {"model": StatusInfo, "description": "Asynchronous execution: the job"}})
async def execute_process(process_id: str, body: ExecuteRequest, request: Request,
                          response: Response, services: ServicesDep, caller: CallerDep,
                          idempotency_key: IdempotencyKey = None,
                          prefer: Annotated[str | None, Header()] = None):
    """Run a process. `Prefer: respond-async` (or an async-only process such as gcbm) answers
    201 with the job's status and `Location`; otherwise the call waits for the results. Results
    are a document of references (`response: raw` and `transmissionMode: value` are 422);
    `outputs` selects which outputs the document lists."""
    if body.outputs is not None:
        known = services.registry.get(process_id).outputs
        unknown = [output_id for output_id in body.outputs if output_id not in known]
        if unknown:
            raise InputError(f"no output {', '.join(map(repr, unknown))} of process "
                             f"{process_id!r}", field="outputs",
                             hint=f"outputs: {', '.join(sorted(known))}")
    definition, job, created = await in_thread(services.submit, process_id, body.inputs,
                                               caller=caller, idempotency_key=idempotency_key)
    headers = {"Location": str(request.url_for("get_job", job_id=job.id))}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    wants_async = "respond-async" in (prefer or "")
    if wants_async:
        headers["Preference-Applied"] = "respond-async"
    if wants_async or not definition.sync:
        return JSONResponse(present_job(job, request), status_code=201, headers=headers)
    finished = await wait_for_job(services, job, services.settings.sync_timeout_s)
    await in_thread(services.jobs.results, finished.id, owner=caller.scope)  # raises a failure
    results = present_results(finished, request)
    if body.outputs:
        results = {output_id: results[output_id] for output_id in body.outputs
                   if output_id in results}
    return JSONResponse(results, headers=headers)


_MAX_SQL_INT = 2**63 - 1  # SQLite's and PostgreSQL's largest integer: larger is a 422, not a 500


@router.get("/jobs", name="list_jobs", response_model=JobList)
def list_jobs(request: Request, services: ServicesDep, caller: CallerDep,
              status: Annotated[list[JobStatus] | None, Query()] = None,
              processID: Annotated[list[str] | None, Query()] = None,  # noqa: N803 (OGC name)
              limit: Annotated[int | None, Query(ge=1, le=_MAX_SQL_INT)] = None,
              offset: Annotated[int, Query(ge=0, le=_MAX_SQL_INT)] = 0) -> JSONResponse:
    settings = services.settings
    limit = min(limit or settings.default_page_size, settings.max_page_size)
    jobs, total = services.jobs.list_jobs(owner=caller.scope,
                                          statuses=[s.value for s in status] if status else None,
                                          process_ids=processID, limit=limit, offset=offset)
    links = [{"href": str(request.url), "rel": "self", "type": "application/json"}]
    if offset + limit < total:
        links.append({"href": str(request.url.include_query_params(offset=offset + limit, limit=limit)),
                      "rel": "next", "type": "application/json"})
    if offset > 0:
        links.append({"href": str(request.url.include_query_params(offset=max(0, offset - limit),
                                                                   limit=limit)),
                      "rel": "prev", "type": "application/json"})
    return JSONResponse({"jobs": [present_job(job, request) for job in jobs],
                         "numberMatched": total, "links": links})


@router.get("/jobs/{job_id}", name="get_job", response_model=StatusInfo)
async def get_job(job_id: str, request: Request, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    # The most frequent request (clients poll it) is one primary-key read of well under a
    # millisecond, so it runs on the event loop: a thread-pool hop would cost more than the read.
    return JSONResponse(present_job(services.jobs.get(job_id, owner=caller.scope), request))


@router.delete("/jobs/{job_id}", name="dismiss_job", response_model=StatusInfo)
def dismiss_job(job_id: str, request: Request, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Dismiss a queued or running job (its process is killed), or delete a finished one."""
    return JSONResponse(present_job(services.jobs.dismiss(job_id, owner=caller.scope), request))


@router.get("/jobs/{job_id}/results", name="get_job_results")
def get_job_results(job_id: str, request: Request, services: ServicesDep, caller: CallerDep) -> dict:
    """The results document (404 result-not-ready while the job runs; a failed job answers
    with its failure)."""
    return present_results(services.jobs.results(job_id, owner=caller.scope), request)


@router.get("/jobs/{job_id}/results/{output_id}", name="get_job_output", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}}})
def get_job_output(job_id: str, output_id: str, services: ServicesDep, caller: CallerDep):
    """One output: a file, or a zip of a directory output."""
    job = services.jobs.results(job_id, owner=caller.scope)
    path = services.jobs.result_path(job, output_id)
    entry = (job.outputs or {})[output_id]  # result_path checked that it exists
    suffix = ".zip" if path.is_dir() else "".join(path.suffixes[-1:])
    return file_response(services, path, filename=f"{job.process_id}-{output_id}{suffix}",
                         media_type=entry.get("type"))


@router.get("/jobs/{job_id}/logs", name="get_job_logs")
def get_job_logs(job_id: str, services: ServicesDep, caller: CallerDep) -> dict:
    job, lines = services.jobs.log(job_id, owner=caller.scope)
    return {"jobID": job.id, "status": job.status.value, "lines": lines}
