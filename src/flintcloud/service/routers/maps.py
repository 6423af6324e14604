"""Indicator maps of a simulation's latest successful run: a COG per indicator and year, served
as XYZ web map tiles with a JSON description (bounds, zooms, value range, colour scale) and
pixel values."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request, Response

from flintcloud.service.deps import CallerDep, ServicesDep
from flintcloud.service.maps import MAX_ZOOM, RAMP_NAMES

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
    (pools, fluxes or variable) and years, as the run's manifest.json declares them; the
    deployment's basemap (XYZ URL template and attribution), null when none is set."""
    simulation = services.simulations.get(simulation_id, owner=caller.scope)
    job, indicators = services.simulations.maps(simulation)
    settings = services.settings
    basemap = None if not settings.map_basemap_url else \
        {"url": settings.map_basemap_url, "attribution": settings.map_basemap_attribution}
    return {"simulation": simulation.id, "job": job.id, "indicators": indicators,
            "ramps": list(RAMP_NAMES), "basemap": basemap}


@router.get("/{indicator}/{year}/tiles/{z}/{x}/{y}.png", name="get_simulation_map_tile",
            response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "A 256 x 256 tile of "
                             "Web Mercator (XYZ, as OpenStreetMap's); nodata is transparent."}})
def map_tile(simulation_id: str, indicator: str, year: str,
             z: Annotated[int, Path(ge=0, le=MAX_ZOOM)], x: Annotated[int, Path(ge=0)],
             y: Annotated[int, Path(ge=0)], services: ServicesDep, caller: CallerDep,
             ramp: Ramp = "auto", vmin: VMin = None, vmax: VMax = None) -> Response:
    """One XYZ tile of the map, for web maps and QGIS (`links[rel=tiles]` of the description
    gives the URL template with the scale's ramp, min and max fixed, so every tile and year
    is coloured alike)."""
    simulation = services.simulations.get(simulation_id, owner=caller.scope)
    tile = services.simulations.map_tile(simulation, indicator, year, z, x, y,
                                         **_style(ramp, vmin, vmax))
    return Response(tile, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/{indicator}/{year}", name="get_simulation_map")
def map_info(simulation_id: str, indicator: str, year: str, request: Request,
             services: ServicesDep, caller: CallerDep, ramp: Ramp = "auto", vmin: VMin = None,
             vmax: VMax = None) -> dict[str, Any]:
    """Bounds (west, south, east, north, in `crs`), size, tile zooms, min/max of the data,
    nodata and the colour scale of the tiles at `links[rel=tiles]` (an XYZ URL template)."""
    simulation = services.simulations.get(simulation_id, owner=caller.scope)
    info = services.simulations.map_info(simulation, indicator, year, **_style(ramp, vmin, vmax))
    scale = info["scale"]
    params = urlencode({"ramp": scale["ramp"], "min": repr(scale["min"]), "max": repr(scale["max"])})
    # url_for does not percent-encode path parameters, and item names may hold spaces
    names = {"simulation_id": simulation.id, "indicator": quote(indicator, safe=""),
             "year": quote(year, safe="")}
    tiles = request.url_for("get_simulation_map_tile", **names, z="{z}", x="{x}", y="{y}")
    value = request.url_for("get_simulation_map_value", **names)
    return info | {"links": [
        {"href": str(request.url), "rel": "self", "type": "application/json"},
        {"href": f"{tiles}?{params}", "rel": "tiles", "type": "image/png", "templated": True,
         "title": "XYZ tiles of the map ({z}/{x}/{y})"},
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
