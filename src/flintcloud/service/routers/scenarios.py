"""Scenarios of a simulation (a copy that records its baseline) and the comparison of two
simulations' latest successful runs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from flintcloud.errors import NotFoundError
from flintcloud.service.deps import CallerDep, ServicesDep
from flintcloud.service.errors import ForbiddenError
from flintcloud.service.schemas import SimulationCreate, SimulationPublic, present_simulation
from flintcloud.service.services import Caller, Services
from flintcloud.service.simulations import Simulation

router = APIRouter(prefix="/simulations/{simulation_id}", tags=["Scenarios"])


def other_simulation(services: Services, caller: Caller, simulation_id: str,
                     field: str) -> Simulation:
    """The caller's simulation named by a parameter (`field`): a 404 or 403 naming it."""
    try:
        return services.simulations.get(simulation_id, owner=caller.scope)
    except (NotFoundError, ForbiddenError) as err:
        err.field = field
        raise


@router.post("/scenarios", name="create_scenario", status_code=201,
             response_model=SimulationPublic)
def create_scenario(simulation_id: str, body: SimulationCreate, request: Request,
                    services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Copy the simulation (its inputs, settings and every file it keeps) into a new one titled
    `title`, whose `scenario_of` names this one; edit the copy's settings or disturbance layers
    as any simulation's, run both, then compare them (`GET /simulations/{id}/compare?with=`)."""
    baseline = services.simulations.get(simulation_id, owner=caller.scope)
    scenario = services.scenarios.copy(baseline, body.title, owner=caller.owner)
    simulations = services.simulations
    document = present_simulation(scenario, simulations.latest_job(scenario),
                                  simulations.readiness(scenario), request)
    return JSONResponse(document, status_code=201, headers={
        "Location": str(request.url_for("get_simulation", simulation_id=scenario.id))})


@router.get("/compare", name="compare_simulations")
def compare(simulation_id: str, services: ServicesDep, caller: CallerDep,
            other: Annotated[str, Query(alias="with", description="The baseline simulation's id.")]
            ) -> dict[str, Any]:
    """This simulation's latest successful run against the baseline's (`with`): both annual
    summaries (`run`, `baseline_years`), this run minus the baseline per year both simulated
    (`differences`), and what differs in their manifests: input files (by sha256), settings
    (the merged configuration) and versions. Both must be runs of one landscape (same tiles
    and pixel grid), else 422."""
    simulation = services.simulations.get(simulation_id, owner=caller.scope)
    baseline = other_simulation(services, caller, other, "with")
    return services.scenarios.compare(simulation, baseline)
