"""Indicator maps of a simulation's latest successful run: a COG per indicator and year, served
as a coloured PNG with a JSON description (bounds, value range, colour scale) and pixel values."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from flintcloud.service.deps import CallerDep, ServicesDep
from flintcloud.service.maps import RAMP_NAMES

router = APIRouter(prefix="/simulations/{simulation_id}/maps", tags=["Maps"])

Ramp = Annotated[Literal[RAMP_NAMES], Query(  # type: ignore[valid-type]
    description="Colour ramp; `auto`: diverging around 0 for values of both signs, else viridis.")]
VMin = Annotated[float | None, Query(alias="min", allow_inf_nan=False,
                                     description="Value at the ramp's start (default: the data's).")]
VMax = Annotated[float | None, Query(alias="max", allow_inf_nan=False,
                                     description="Value at the ramp's end (default: the data's).")]


def _style(ramp: str, vmin: float | None, vmax: float | None) -> dict[str, Any]:
    return {"ramp": ramp, "vmin": vmin, "vmax": vmax}


@router.get("", name="list_simulation_maps")
def list_maps(simulation_id: str, services: ServicesDep, caller: CallerDep) -> dict[str, Any]:
    """The items with maps (whole-area COGs), in the run's order, each with its unit, kind
    (pools, fluxes or variable) and years, as the run's manifest.json declares them."""
    simulation = services.simulations.get(simulation_id, owner=caller.scope)
    job, indicators = services.simulations.maps(simulation)
    return {"simulation": simulation.id, "job": job.id, "indicators": indicators,
            "ramps": list(RAMP_NAMES)}


# Registered before `/{year}` so that `2015.png` is not taken for a year.
@router.get("/{indicator}/{year}.png", name="get_simulation_map_image", response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "The map; nodata is "
                             "transparent. Place it with the bounds of the JSON description."}})
def map_image(simulation_id: str, indicator: str, year: str, services: ServicesDep,
              caller: CallerDep, ramp: Ramp = "auto", vmin: VMin = None,
              vmax: VMax = None) -> Response:
    simulation = services.simulations.get(simulation_id, owner=caller.scope)
    image = services.simulations.map_image(simulation, indicator, year, **_style(ramp, vmin, vmax))
    return Response(image, media_type="image/png", headers={"Cache-Control": "private, no-cache"})


@router.get("/{indicator}/{year}", name="get_simulation_map")
def map_info(simulation_id: str, indicator: str, year: str, request: Request,
             services: ServicesDep, caller: CallerDep, ramp: Ramp = "auto", vmin: VMin = None,
             vmax: VMax = None) -> dict[str, Any]:
    """Bounds (west, south, east, north, in `crs`), size, min/max of the data, nodata and the
    colour scale of the PNG at `links[rel=image]` (drawn with the same parameters)."""
    simulation = services.simulations.get(simulation_id, owner=caller.scope)
    info = services.simulations.map_info(simulation, indicator, year, **_style(ramp, vmin, vmax))
    params = {"ramp": ramp} | {k: v for k, v in (("min", vmin), ("max", vmax)) if v is not None}
    # url_for does not percent-encode path parameters, and item names may hold spaces
    names = {"simulation_id": simulation.id, "indicator": quote(indicator, safe=""),
             "year": quote(year, safe="")}
    image = request.url_for("get_simulation_map_image", **names).include_query_params(**params)
    value = request.url_for("get_simulation_map_value", **names)
    return info | {"links": [
        {"href": str(request.url), "rel": "self", "type": "application/json"},
        {"href": str(image), "rel": "image", "type": "image/png", "title": "the map"},
        {"href": str(value), "rel": "value", "type": "application/json",
         "title": "a pixel's value (?lon=&lat=)"}]}


@router.get("/{indicator}/{year}/value", name="get_simulation_map_value")
def map_value(simulation_id: str, indicator: str, year: str, services: ServicesDep,
              caller: CallerDep,
              lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
              lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)]) -> dict[str, Any]:
    """The value of the pixel at (lon, lat); `value` null for nodata or outside the map."""
    simulation = services.simulations.get(simulation_id, owner=caller.scope)
    return services.simulations.map_value(simulation, indicator, year, lon, lat)
