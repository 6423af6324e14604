"""Upstream FLINT.Cloud's endpoints (FLINT.example and GCBM APIs): same paths, methods, form
fields and success shapes, backed by jobs and simulations. Errors are problem details."""


from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse
from sqlalchemy import text

from flintcloud.errors import InputError, MissingInputError, NotFoundError
from flintcloud.flint.config import parse_json_text
from flintcloud.service import upstream
from flintcloud.service.deps import CallerDep, IdempotencyKey, ServicesDep
from flintcloud.service.errors import ConflictError, MissingFileError
from flintcloud.service.jobs import JobStatus
from flintcloud.service.responses import file_response, in_thread, wait_for_job
from flintcloud.service.schemas import Envelope
from flintcloud.service.services import Caller, Services
from flintcloud.service.simulations import Category, IncomingFile, Simulation, upstream_title

router = APIRouter(tags=["Upstream FLINT.Cloud"])

Title = Annotated[str | None, Form(description="Simulation title (alphanumerics kept; default "
                                               "`simulation`).")]
Attributes = Annotated[str | None, Form(
    description="JSON: per layer (file or layer name), pixel value -> classifier value, or -> "
                "{year, disturbance_type, transition}; or an attributes file (JSON or YAML, "
                "docs/gcbm-inputs.md §3).")]
Files = list[UploadFile] | None


@router.get("/check", response_class=PlainTextResponse, operation_id="check")
@router.post("/check", response_class=PlainTextResponse, operation_id="check_post")
def check(services: ServicesDep) -> str:
    """Health check (also queries the job database)."""
    with services.database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return "Checks OK"


@router.get("/version", response_model=Envelope)
def version() -> dict:
    return upstream.envelope(upstream.version)


@router.get("/help/{arg}", response_model=Envelope)
def help_section(arg: str) -> dict:
    """`all`, `files` or `configs`; any other section answers upstream's "Unknown section" text."""
    return upstream.envelope(lambda: upstream.help_section(arg))


@router.get("/swagger", include_in_schema=False)
def swagger() -> RedirectResponse:
    return RedirectResponse("/docs")


# -- FLINT.example: /point and /rothc --------------------------------------------------------------

async def _run_example(process_id: str, request: Request, services: Services, caller: Caller,
                       idempotency_key: str | None) -> FileResponse:
    raw = (await request.body()).decode("utf-8", errors="replace")
    config = parse_json_text(raw, "request body") if raw.strip() else None
    _, job, _ = await in_thread(services.submit, process_id, {"config": config} if config else {},
                                caller=caller, idempotency_key=idempotency_key)
    finished = await wait_for_job(services, job, services.settings.sync_timeout_s)
    await in_thread(services.jobs.results, finished.id, owner=caller.scope)  # a failure answers
    return FileResponse(services.jobs.result_path(finished, "stock"), media_type="text/csv",
                        filename=f"{process_id}_example.csv",
                        headers={"Location": str(request.url_for("get_job", job_id=job.id))})


_EXAMPLE_BODY = {"content": {"application/json": {"schema": {"type": "object"}}},
                 "description": "A FLINT point configuration; empty for the built-in example."}


@router.post("/point", response_class=FileResponse, openapi_extra={"requestBody": _EXAMPLE_BODY},
             responses={200: {"content": {"text/csv": {}}}})
async def point(request: Request, services: ServicesDep, caller: CallerDep,
                idempotency_key: IdempotencyKey = None):
    """Run the FLINT Point example (or the posted configuration); the stock CSV as attachment."""
    return await _run_example("point", request, services, caller, idempotency_key)


@router.post("/rothc", response_class=FileResponse, openapi_extra={"requestBody": _EXAMPLE_BODY},
             responses={200: {"content": {"text/csv": {}}}})
async def rothc(request: Request, services: ServicesDep, caller: CallerDep,
                idempotency_key: IdempotencyKey = None):
    """Run the FLINT RothC example (or the posted configuration); the stock CSV as attachment."""
    return await _run_example("rothc", request, services, caller, idempotency_key)


# -- GCBM: title-based simulations ---------------------------------------------------------------

def _simulation(services: Services, caller: Caller, title: str | None) -> Simulation:
    return services.simulations.by_title(upstream_title(title), owner=caller.owner)


def _new(services: Services, caller: Caller, title: str | None) -> tuple[str, bool]:
    title = upstream_title(title)
    _, created = services.simulations.create(title, owner=caller.owner)
    return title, created


@router.post("/gcbm/new")
def gcbm_new(services: ServicesDep, caller: CallerDep, title: Title = None) -> dict:
    _, created = _new(services, caller, title)
    return {"data": upstream.NEW_SIMULATION if created else upstream.SIMULATION_EXISTS}


@router.post("/upload/title")
def upload_title(services: ServicesDep, caller: CallerDep, title: Title = None) -> dict:
    title, created = _new(services, caller, title)
    message = upstream.TITLE_STARTED if created else upstream.TITLE_EXISTS
    return {"data": message.format(title=title)}


def _incoming(files: Files) -> list[IncomingFile]:
    return [IncomingFile(upload.filename, upload.file) for upload in files or []]


@router.post("/gcbm/upload")
def gcbm_upload(services: ServicesDep, caller: CallerDep, title: Title = None,
                disturbances: Annotated[Files, File()] = None,
                classifiers: Annotated[Files, File()] = None,
                db: Annotated[Files, File()] = None,
                miscellaneous: Annotated[Files, File()] = None,
                attributes: Attributes = None) -> dict:
    """Upload every category at once (disturbances may be left out: a run without disturbances
    is valid). Nothing is kept unless every file is valid."""
    by_category = {Category.CLASSIFIERS: classifiers, Category.DB: db,
                   Category.MISCELLANEOUS: miscellaneous, Category.DISTURBANCES: disturbances}
    missing = [str(c) for c in (Category.CLASSIFIERS, Category.DB, Category.MISCELLANEOUS)
               if not by_category[c]]
    if missing:
        raise MissingFileError([MissingInputError("missing", field=name) for name in missing],
                               detail="Missing configuration file")
    simulation, _ = services.simulations.create(upstream_title(title), owner=caller.owner)
    received = [IncomingFile(upload.filename, upload.file)
                for category, uploads in by_category.items() for upload in uploads or []]
    categories = [category for category, uploads in by_category.items() for _ in uploads or []]
    services.simulations.add_files_by_category(simulation, list(zip(categories, received, strict=True)),
                                               attributes=attributes)
    return {"data": upstream.ALL_UPLOADED}


def _category_endpoint(category: Category):
    def upload(services: ServicesDep, caller: CallerDep, title: Title = None,
               files: Annotated[Files, File(alias=category.value)] = None,
               attributes: Attributes = None) -> dict:
        if not files:
            raise MissingFileError([MissingInputError("missing", field=category.value)],
                                   detail=f"Missing {category} file")
        simulation, _ = services.simulations.create(upstream_title(title), owner=caller.owner)
        services.simulations.add_files(simulation, _incoming(files), category=category,
                                       attributes=attributes)
        return {"data": upstream.CATEGORY_UPLOADED.format(Category=category.value.capitalize())}

    upload.__doc__ = f"Upload {category} file(s) (field `{category}`), with optional attributes."
    return upload


for _category in Category:
    router.add_api_route(f"/gcbm/upload/{_category}", _category_endpoint(_category),
                         methods=["POST"], name=f"upload_{_category}")


@router.post("/upload/db/tables")
def db_tables(services: ServicesDep, caller: CallerDep, title: Title = None) -> dict[str, list[str]]:
    """{table: [column, …]} of the simulation's gcbm_input.db."""
    return services.simulations.tables(_simulation(services, caller, title))


@router.post("/gcbm/table/rename")
def rename_table(services: ServicesDep, caller: CallerDep, previous: Annotated[str, Form()],
                 new: Annotated[str, Form()], title: Title = None) -> dict:
    """Rename a table: `previous` must exist, `new` must be a fresh identifier (no SQL from input)."""
    services.simulations.rename_table(_simulation(services, caller, title), previous, new)
    return {"status": 1}


@router.post("/config")
def rename_columns(services: ServicesDep, caller: CallerDep,
                   body: Annotated[dict[str, Any], Body(examples=[{
                       "simulation_name": "run4", "tables": {"eco_boundary": {"name": "eco_name"}}}])]
                   ) -> dict:
    """Rename columns: {"simulation_name", "tables": {table: {old: new}}}."""
    simulation = _simulation(services, caller, body.get("simulation_name"))
    tables = body.get("tables")
    if not isinstance(tables, dict):
        raise InputError("expected {table: {old column: new column}}", field="tables")
    return {"status": 1, "response": services.simulations.rename_columns(simulation, tables)}


@router.post("/gcbm/dynamic")
def gcbm_dynamic(request: Request, services: ServicesDep, caller: CallerDep, title: Title = None,
                 idempotency_key: IdempotencyKey = None) -> dict:
    """Start a GCBM run (a job). 422 names every layer without attributes; 409 if one runs."""
    simulation = _simulation(services, caller, title)
    job, _ = services.simulations.run(simulation, owner=caller.owner, idempotency_key=idempotency_key)
    return {"status": "Run started", "job": job.id,
            "href": str(request.url_for("get_job", job_id=job.id))}


@router.post("/gcbm/status")
def gcbm_status(services: ServicesDep, caller: CallerDep, title: Title = None) -> dict:
    """{"finished": …} as upstream, now true: in progress, ready, failed (with the error);
    before a first run, what refuses a start (`problems`, as a refused gcbm/dynamic's errors)."""
    simulation = _simulation(services, caller, title)
    latest = services.simulations.latest_job(simulation)
    if latest is None:  # not started: say what refuses a start, if anything does
        return upstream.not_started(*services.simulations.refusal(simulation))
    answer = upstream.status_message(latest)
    if latest.status.is_final:  # what would refuse the next start (the inputs may have changed)
        answer["problems"] = services.simulations.refusal(simulation)[1]
    return answer


@router.post("/gcbm/download", response_class=FileResponse,
             responses={200: {"content": {"application/zip": {}}}})
def gcbm_download(services: ServicesDep, caller: CallerDep, title: Title = None):
    """The output of the latest run as `<title>.zip` (409 while running or after a failure)."""
    simulation = _simulation(services, caller, title)
    latest = services.simulations.latest_job(simulation)
    if latest is None:
        raise NotFoundError(f"simulation {simulation.title!r} has not been run",
                            hint="run it with gcbm/dynamic")
    if latest.status is not JobStatus.SUCCESSFUL:
        state = f"failed: {latest.error_detail}" if latest.status is JobStatus.FAILED \
            else latest.status.value
        raise ConflictError(f"the latest run of {simulation.title!r} is {state}",
                            hint="check gcbm/status")
    _, output = services.simulations.output_dir(simulation)
    return file_response(services, output, filename=f"{simulation.title}.zip")


@router.get("/gcbm/list")
def gcbm_list(services: ServicesDep, caller: CallerDep) -> dict:
    return {"data": [s.title for s in services.simulations.list_simulations(owner=caller.owner)],
            "message": upstream.LIST_MESSAGE}


@router.post("/gcbm/getConfig")
def get_config(services: ServicesDep, caller: CallerDep, title: Annotated[str, Form()] = "",
               file_name: Annotated[str, Form()] = "") -> dict:
    """A generated GCBM configuration file by name (`localdomain`, a layer such as
    `Classifier1` or `Classifier1_moja`, …): names are looked up, never used as paths."""
    if not title.strip():
        raise InputError("No Simulation name specified", field="title")
    if not file_name.strip():
        raise InputError("No file name specified", field="file_name")
    simulation = _simulation(services, caller, title)
    return {"data": services.simulations.config_document(simulation, file_name.strip())}
