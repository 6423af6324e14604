"""Indicator maps of a simulation's latest successful run: a COG per indicator and year, served
as XYZ web map tiles with a JSON description (bounds, zooms, value range, colour scale) and
pixel values; the difference of two maps (two years, or two simulations of one landscape) the
same way; and a WMTS capabilities document listing every map."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request, Response

from flintcloud.gcbm.outputs.catalogue import map_catalogue
from flintcloud.service import wmts
from flintcloud.service.deps import CallerDep, ServicesDep
from flintcloud.service.maps import MAX_ZOOM, RAMP_NAMES, tileset_bounds
from flintcloud.service.routers.scenarios import other_simulation

router = APIRouter(prefix="/simulations/{simulation_id}/maps", tags=["Maps"])

Ramp = Annotated[Literal[RAMP_NAMES], Query(  # type: ignore[valid-type]
    description="Colour ramp; `auto`: diverging around 0 for values of both signs, else viridis.")]
VMin = Annotated[float | None, Query(alias="min", allow_inf_nan=False,
                                     description="Value at the ramp's start (default: the data's).")]
VMax = Annotated[float | None, Query(alias="max", allow_inf_nan=False,
                                     description="Value at the ramp's end (default: the data's).")]


Extent = Annotated[float | None, Query(
    alias="max", gt=0, allow_inf_nan=False,
    description="The largest |difference| coloured: the scale runs from -max to +max "
                "(default: the data's largest |difference|).")]
Lon = Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)]
TILE_CACHE_CONTROL = {"Cache-Control": "private, max-age=3600"}


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


@router.get("/WMTSCapabilities.xml", name="get_simulation_wmts_capabilities",
            response_class=Response,
            responses={200: {"content": {"application/xml": {}},
                             "description": "OGC WMTS 1.0.0 Capabilities (RESTful)"}})
def wmts_capabilities(simulation_id: str, request: Request, services: ServicesDep,
                      caller: CallerDep) -> Response:
    """Every map of the latest run (each indicator in each year: layer `<indicator>.<year>`) as
    a WMTS 1.0.0 layer on the GoogleMapsCompatible tile matrix set, its ResourceURL the XYZ tile
    URL (each map coloured over its own range; add `?ramp=&min=&max=` to fix the scale). For
    QGIS (WMS/WMTS connection) and OWSLib."""
    simulation = services.simulations.get(simulation_id, owner=caller.scope)
    job, output = services.simulations.output_dir(simulation)
    catalogue = map_catalogue(output)
    bounds = tileset_bounds(catalogue)
    layers = []
    for name, item in catalogue.items():
        for year in item.paths:
            names = {"simulation_id": simulation.id, "indicator": quote(name, safe=""),
                     "year": quote(year, safe="")}
            template = request.url_for("get_simulation_map_tile", **names, z="{TileMatrix}",
                                       x="{TileCol}", y="{TileRow}")
            layers.append(wmts.WmtsLayer(
                identifier=f"{name}.{year}", title=f"{name} {year} ({item.unit})",
                abstract=f"{name} in {year}, {item.unit} ({item.kind}); run {job.id}",
                bounds_wgs84=bounds[name], template=str(template)))
    document = wmts.capabilities(f"FLINT Cloud: {simulation.title}", str(request.url), layers,
                                 MAX_ZOOM)
    return Response(document, media_type="application/xml")


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
    return Response(tile, media_type="image/png", headers=TILE_CACHE_CONTROL)


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


# -- differences: {indicator} in {year} of this simulation minus in {other_year} of {other} -----
DIFFERENCE = "/{indicator}/{year}/minus/{other}/{other_year}"


@router.get(DIFFERENCE, name="get_simulation_difference_map")
def difference_info(simulation_id: str, indicator: str, year: str, other: str, other_year: str,
                    request: Request, services: ServicesDep, caller: CallerDep,
                    extent: Extent = None) -> dict[str, Any]:
    """The map of `indicator` in `year` minus the same indicator in `other_year` of simulation
    `other` (this one's id for a difference of two years; a scenario's baseline for two runs):
    bounds, zooms, range of the difference and its diverging scale, centred on 0, from -max to
    +max; `links[rel=tiles]` its XYZ tiles, `links[rel=value]` a pixel's difference. Both maps
    must lie on the same grid (422 otherwise)."""
    simulation = services.simulations.get(simulation_id, owner=caller.scope)
    subtrahend = other_simulation(services, caller, other, "other")
    info = services.scenarios.difference_info(simulation, indicator, year, subtrahend,
                                              other_year, extent=extent)
    names = {"simulation_id": simulation.id, "indicator": quote(indicator, safe=""),
             "year": quote(year, safe=""), "other": subtrahend.id,
             "other_year": quote(other_year, safe="")}
    tiles = request.url_for("get_simulation_difference_tile", **names, z="{z}", x="{x}", y="{y}")
    value = request.url_for("get_simulation_difference_value", **names)
    scale = urlencode({"max": repr(info["scale"]["max"])})
    return info | {"links": [
        {"href": str(request.url), "rel": "self", "type": "application/json"},
        {"href": f"{tiles}?{scale}", "rel": "tiles", "type": "image/png", "templated": True,
         "title": "XYZ tiles of the difference ({z}/{x}/{y})"},
        {"href": str(value), "rel": "value", "type": "application/json",
         "title": "a pixel's difference (?lon=&lat=)"}]}


@router.get(DIFFERENCE + "/tiles/{z}/{x}/{y}.png", name="get_simulation_difference_tile",
            response_class=Response,
            responses={200: {"content": {"image/png": {}}, "description": "A 256 x 256 tile of "
                             "the difference (Web Mercator XYZ); nodata in either map is "
                             "transparent."}})
def difference_tile(simulation_id: str, indicator: str, year: str, other: str, other_year: str,
                    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)], x: Annotated[int, Path(ge=0)],
                    y: Annotated[int, Path(ge=0)], services: ServicesDep, caller: CallerDep,
                    extent: Extent = None) -> Response:
    """One XYZ tile of the difference, on the diverging ramp from -max to +max."""
    simulation = services.simulations.get(simulation_id, owner=caller.scope)
    subtrahend = other_simulation(services, caller, other, "other")
    tile = services.scenarios.difference_tile(simulation, indicator, year, subtrahend,
                                              other_year, z, x, y, extent=extent)
    return Response(tile, media_type="image/png", headers=TILE_CACHE_CONTROL)


@router.get(DIFFERENCE + "/value", name="get_simulation_difference_value")
def difference_value(simulation_id: str, indicator: str, year: str, other: str,
                     other_year: str, services: ServicesDep, caller: CallerDep, lon: Lon,
                     lat: Lat) -> dict[str, Any]:
    """The difference at the pixel holding (lon, lat) (`value`), and both maps' values there
    (`minuend`, `subtrahend`); null for nodata in either, or outside."""
    simulation = services.simulations.get(simulation_id, owner=caller.scope)
    subtrahend = other_simulation(services, caller, other, "other")
    return services.scenarios.difference_value(simulation, indicator, year, subtrahend,
                                               other_year, lon, lat)
