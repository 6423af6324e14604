"""GCBM simulations as a resource: create, upload, inspect, configure, run, read the results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from flintcloud.errors import MissingInputError
from flintcloud.gcbm.inputs import GcbmSettings
from flintcloud.gcbm.project.modules import describe_modules
from flintcloud.service.deps import CallerDep, IdempotencyKey, ServicesDep
from flintcloud.service.errors import ConflictError, MissingFileError
from flintcloud.service.responses import file_response
from flintcloud.service.schemas import (
    DemoCreate,
    SimulationCreate,
    SimulationPublic,
    StatusInfo,
    present_job,
    present_simulation,
)
from flintcloud.service.services import Caller, Services
from flintcloud.service.simulations import Category, IncomingFile, Simulation

router = APIRouter(prefix="/simulations", tags=["Simulations"])


def _present(services: Services, simulation: Simulation, request: Request) -> dict:
    return present_simulation(simulation, services.simulations.latest_job(simulation),
                              services.simulations.readiness(simulation), request)


def _get(services: Services, caller: Caller, simulation_id: str) -> Simulation:
    return services.simulations.get(simulation_id, owner=caller.scope)


@router.post("", name="create_simulation", status_code=201, response_model=SimulationPublic)
def create_simulation(body: SimulationCreate, request: Request, services: ServicesDep,
                      caller: CallerDep) -> JSONResponse:
    simulation, created = services.simulations.create(body.title, owner=caller.owner)
    if not created:
        raise ConflictError(f"a simulation titled {body.title!r} already exists",
                            hint=f"its id is {simulation.id}")
    return JSONResponse(_present(services, simulation, request), status_code=201,
                        headers={"Location": str(request.url_for("get_simulation",
                                                                 simulation_id=simulation.id))})


@router.post("/demo", name="create_demo_simulation", status_code=201,
             response_model=SimulationPublic)
def create_demo_simulation(request: Request, services: ServicesDep, caller: CallerDep,
                           body: DemoCreate | None = None) -> JSONResponse:
    """A simulation ready to run that needs no files: `flintcloud gcbm demo`'s synthetic project
    (one 0.1° block; its input database built from libcbm's CBM-CFS3 defaults)."""
    title = (body or DemoCreate()).title
    simulation, created = services.simulations.create_demo(title, owner=caller.owner)
    if not created:
        raise ConflictError(f"a simulation titled {title!r} already exists",
                            hint=f"its id is {simulation.id}; give another title")
    return JSONResponse(_present(services, simulation, request), status_code=201,
                        headers={"Location": str(request.url_for("get_simulation",
                                                                 simulation_id=simulation.id))})


@router.get("", name="list_simulations", response_model=list[SimulationPublic])
def list_simulations(request: Request, services: ServicesDep, caller: CallerDep) -> list[dict]:
    return [_present(services, simulation, request)
            for simulation in services.simulations.list_simulations(owner=caller.scope)]


@router.get("/modules", name="list_gcbm_modules")
def list_modules(caller: CallerDep) -> dict:
    """The modules a GCBM run can use: name, phase (spinup, main, output), what each does,
    whether it can be switched off (`switch`: the setting that does it), the settings section
    that configures it (`settings_key`) and that section's JSON schema. A simulation's
    settings (`PATCH /simulations/{id}/config`) switch and configure them."""
    return {"modules": describe_modules()}


@router.get("/{simulation_id}", name="get_simulation", response_model=SimulationPublic)
def get_simulation(simulation_id: str, request: Request, services: ServicesDep,
                   caller: CallerDep) -> dict:
    return _present(services, _get(services, caller, simulation_id), request)


@router.delete("/{simulation_id}", name="delete_simulation", status_code=204)
def delete_simulation(simulation_id: str, services: ServicesDep, caller: CallerDep) -> None:
    services.simulations.delete(_get(services, caller, simulation_id))


@router.post("/{simulation_id}/files", name="upload_simulation_files")
def upload_files(simulation_id: str, services: ServicesDep, caller: CallerDep,
                 files: Annotated[list[UploadFile], File(description="Files, or one zip with "
                                                         "disturbances/ classifiers/ miscellaneous/ "
                                                         "db/ folders (and an attributes.yaml, "
                                                         ".json or .csv).")],
                 category: Annotated[Category | None, Form()] = None,
                 attributes: Annotated[str | None, Form(
                     description="An attributes file (JSON or YAML, docs/gcbm-inputs.md §3), or "
                                 "JSON attribute tables per layer.")] = None
                 ) -> dict:
    """Add or replace input files; each file is checked (`check_files`) with those already
    there, and a rejected upload keeps nothing."""
    if not files:
        raise MissingFileError([MissingInputError("missing", field="files")],
                               detail="no file uploaded")
    simulation = _get(services, caller, simulation_id)
    received = services.simulations.add_files(
        simulation, [IncomingFile(upload.filename, upload.file) for upload in files],
        category=category, attributes=attributes)
    return {"received": received, "inputs": services.simulations.describe_inputs(simulation)}


@router.get("/{simulation_id}/inputs", name="get_simulation_inputs")
def get_inputs(simulation_id: str, services: ServicesDep, caller: CallerDep) -> dict:
    """Uploaded files by category, with each raster's grid and whether it has attributes."""
    return services.simulations.describe_inputs(_get(services, caller, simulation_id))


@router.delete("/{simulation_id}/inputs/{category}/{name}", name="delete_simulation_input",
               status_code=204)
def delete_input(simulation_id: str, category: Category, name: str, services: ServicesDep,
                 caller: CallerDep) -> None:
    services.simulations.remove_file(_get(services, caller, simulation_id), category, name)


@router.get("/{simulation_id}/attributes/choices", name="get_simulation_attribute_choices")
def attribute_choices(simulation_id: str, services: ServicesDep, caller: CallerDep) -> dict:
    """For the attribute tables: each classifier and disturbance layer's pixel values, and the
    input database's classifier values, disturbance types, transition ids and spatial units
    (admin and eco boundary pairs)."""
    return services.simulations.attribute_choices(_get(services, caller, simulation_id))


@router.get("/{simulation_id}/config", name="get_simulation_config", response_model=GcbmSettings,
            response_model_exclude_none=True)
def get_config(simulation_id: str, services: ServicesDep, caller: CallerDep) -> GcbmSettings:
    """The settings: the inputs' attributes file (docs/gcbm-inputs.md §3); what is left out
    comes from the inputs (dates: the disturbance years) or GCBM's templates."""
    return services.simulations.config(_get(services, caller, simulation_id))


@router.patch("/{simulation_id}/config", name="update_simulation_config",
              response_model=GcbmSettings, response_model_exclude_none=True)
def update_config(simulation_id: str, services: ServicesDep, caller: CallerDep,
                  patch: Annotated[dict[str, Any], Body(examples=[{
                      "end_year": 2015, "spinup": {"minimum_rotation": 12},
                      "outputs": {"geotiff_indicators": ["Age", "NPP", "NBP"]},
                      "layers": {"Classifier2": {"attributes": {"1": "5", "2": "6"}}}}])]
                  ) -> GcbmSettings:
    """JSON merge patch (RFC 7396) of the settings: dates, spatial unit, the modules' settings
    (spinup, growth, growth_multipliers, disturbance_order, outputs with their own `items`:
    GET /simulations/modules) and layer attributes, checked like an uploaded attributes file
    and against the input database; a 422 lists every problem and changes nothing. The former
    `start_date`, `end_date`, `attributes` and `variables` are still accepted."""
    return services.simulations.update_config(_get(services, caller, simulation_id), patch)


@router.get("/{simulation_id}/config/files", name="list_simulation_config_files")
def list_config_files(simulation_id: str, services: ServicesDep, caller: CallerDep) -> dict:
    """The project's JSON files: its configuration files (`editable`; `edit`: patch, replace
    or null) and its layers' (read only); `problems`: edits that stop a run (after the inputs
    changed), each with file (`source`), JSON path (`field`) and problem."""
    return services.simulations.config_files(_get(services, caller, simulation_id))


@router.get("/{simulation_id}/config/files/{name}", name="get_simulation_config_file")
def get_config_file(simulation_id: str, name: str, services: ServicesDep, caller: CallerDep) -> Any:
    """A GCBM file of the project (localdomain, provider_config, a layer's JSON, …), as edited."""
    return services.simulations.config_document(_get(services, caller, simulation_id), name)


_FILE_EDIT = ("The edited project is checked as an uploaded one (the engine's config reader, "
              "then its layers, database and attribute tables): a 422 lists every problem with "
              "its file (`source`) and JSON path (`field`), and changes nothing. The edit is "
              "kept, and applied again on top of the project the inputs make whenever they "
              "change, until DELETE resets it; the runs' manifest.json records the files run.")


@router.patch("/{simulation_id}/config/files/{name}", name="patch_simulation_config_file",
              description="JSON merge patch (RFC 7396) of a configuration file, e.g. "
                          '`{"LocalDomain": {"end_date": "2016/01/01"}}` for localdomain.json; '
                          f"a null removes a key. {_FILE_EDIT}")
def patch_config_file(simulation_id: str, name: str, services: ServicesDep, caller: CallerDep,
                      patch: Annotated[Any, Body(media_type="application/merge-patch+json")]
                      ) -> Any:
    return services.simulations.edit_config_file(_get(services, caller, simulation_id), name,
                                                 patch=patch)


@router.put("/{simulation_id}/config/files/{name}", name="replace_simulation_config_file",
            description=f"Replace a configuration file with the JSON object sent. {_FILE_EDIT} "
                        "A replaced file stays as sent when the inputs change.")
def replace_config_file(simulation_id: str, name: str, services: ServicesDep, caller: CallerDep,
                        document: Annotated[dict[str, Any], Body()]) -> Any:
    return services.simulations.edit_config_file(_get(services, caller, simulation_id), name,
                                                 replacement=document)


@router.delete("/{simulation_id}/config/files/{name}", name="reset_simulation_config_file",
               status_code=204)
def reset_config_file(simulation_id: str, name: str, services: ServicesDep,
                      caller: CallerDep) -> None:
    """Reset a configuration file's edit: the file the inputs make applies again."""
    services.simulations.reset_config_file(_get(services, caller, simulation_id), name)


@router.get("/{simulation_id}/modules", name="list_simulation_modules")
def simulation_modules(simulation_id: str, services: ServicesDep, caller: CallerDep) -> dict:
    """The modules (as `GET /simulations/modules`), each with `enabled`: whether a run of this
    simulation uses it with its current settings."""
    return {"modules": services.simulations.modules(_get(services, caller, simulation_id))}


@router.get("/{simulation_id}/config/indicators", name="list_simulation_indicator_choices")
def indicator_choices(simulation_id: str, services: ServicesDep, caller: CallerDep) -> dict:
    """The indicators a run can write as maps (the choices of `outputs.geotiff_indicators`:
    GCBM's standard WriteVariableGeotiff items), each with its unit, kind and description."""
    _get(services, caller, simulation_id)
    return {"indicators": services.simulations.indicator_choices()}


@router.get("/{simulation_id}/tables", name="get_simulation_tables")
def get_tables(simulation_id: str, services: ServicesDep, caller: CallerDep) -> dict[str, list[str]]:
    return services.simulations.tables(_get(services, caller, simulation_id))


@router.post("/{simulation_id}/run", name="run_simulation", status_code=201,
             response_model=StatusInfo)
def run_simulation(simulation_id: str, request: Request, services: ServicesDep, caller: CallerDep,
                   idempotency_key: IdempotencyKey = None) -> JSONResponse:
    """Check and snapshot the project, then queue a GCBM job (201 + Location)."""
    simulation = _get(services, caller, simulation_id)
    job, created = services.simulations.run(simulation, owner=caller.owner,
                                            idempotency_key=idempotency_key)
    headers = {"Location": str(request.url_for("get_job", job_id=job.id))}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(present_job(job, request), status_code=201, headers=headers)


@router.get("/{simulation_id}/outputs", name="list_simulation_outputs")
def list_outputs(simulation_id: str, services: ServicesDep, caller: CallerDep) -> dict:
    """The files of the latest successful run, and its main files (results database, compiled
    indicators, annual summary, manifest: path and title) among them."""
    job, files, main = services.simulations.list_outputs(_get(services, caller, simulation_id))
    return {"job": job.id, "files": files, "main": main}


@router.get("/{simulation_id}/outputs.zip", name="download_simulation_outputs",
            response_class=FileResponse, responses={200: {"content": {"application/zip": {}}}})
def download_outputs(simulation_id: str, services: ServicesDep, caller: CallerDep):
    simulation = _get(services, caller, simulation_id)
    _, output = services.simulations.output_dir(simulation)
    return file_response(services, output, filename=f"{simulation.title}.zip")


@router.get("/{simulation_id}/outputs/{path:path}", name="get_simulation_output",
            response_class=FileResponse)
def get_output(simulation_id: str, path: str, services: ServicesDep, caller: CallerDep):
    file = services.simulations.output_file(_get(services, caller, simulation_id), path)
    return file_response(services, file, filename=file.name)


@router.get("/{simulation_id}/summary", name="get_simulation_summary")
def annual_summary(simulation_id: str, services: ServicesDep, caller: CallerDep) -> dict:
    """Per year: area, total ecosystem/biomass/DOM/soil carbon, NPP, Rh, NEP, emissions (tC)."""
    simulation = _get(services, caller, simulation_id)
    return {"simulation": simulation.id, "years": services.simulations.annual_summary(simulation)}


@router.get("/{simulation_id}/indicators", name="list_simulation_indicators")
def list_indicators(simulation_id: str, services: ServicesDep, caller: CallerDep) -> dict:
    """The latest run's output items: `indicators` their names, `items` each one's name, unit,
    kind (pools, fluxes or variable), year labels and description, from its manifest.json."""
    items = services.simulations.indicators(_get(services, caller, simulation_id))
    return {"indicators": [item["name"] for item in items], "items": items}


@router.get("/{simulation_id}/indicators/{indicator}", name="get_simulation_indicator")
def indicator_series(simulation_id: str, indicator: str, services: ServicesDep,
                     caller: CallerDep) -> dict:
    """One indicator's yearly series over the simulated pixels (per hectare)."""
    simulation = _get(services, caller, simulation_id)
    return {"indicator": indicator,
            "series": services.simulations.indicator_series(simulation, indicator)}



