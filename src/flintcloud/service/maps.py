"""Indicator maps of a GCBM run: one COG (indicator, year) as XYZ web map tiles (PNG, coloured
with a ramp from a fixed min to max), what a client needs to place and read it (bounds, CRS,
zooms, value range, colour ramp) and single pixel values; the same for the difference of two
maps on one grid (two years, or two runs of one landscape), on a diverging ramp centred on 0.

Paths and units come only from `catalogue.map_catalogue` (what the run's manifest declares); the
indicator and the year a client asks for are looked up there, never joined into a path.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from flintcloud.errors import InputError, NotFoundError
from flintcloud.gcbm.outputs.catalogue import ItemMaps
from flintcloud.io.raster_image import (
    DIVERGING,
    RAMPS,
    TILE_SIZE,
    Band,
    TileGrid,
    raster_grid,
    read_band,
    read_pixel,
    read_tile,
    render_png,
    tile_grid,
)

AUTO_RAMP = "auto"
RAMP_NAMES = (AUTO_RAMP, *RAMPS)
MAX_IMAGE_SIZE = 2048  # pixels per side; larger mosaics are decimated (nearest) to describe them
MAX_ZOOM = 24  # deepest tile served: a few centimetres per pixel
ZOOM_BEYOND_PIXELS = 3  # zooms past the raster's own resolution a client is told to offer


@dataclass(frozen=True)
class MapStyle:
    ramp: str
    vmin: float
    vmax: float


@dataclass(frozen=True)
class MapLayer:
    """One mosaic (an item in one year) and the unit of its values."""
    path: Path
    unit: str


def list_maps(catalogue: dict[str, ItemMaps]) -> list[dict[str, Any]]:
    """Per item with maps, in the manifest's order: its name, unit, kind and years."""
    return [{"indicator": name, "unit": maps.unit, "kind": maps.kind, "years": list(maps.paths)}
            for name, maps in catalogue.items()]


def find_layer(catalogue: dict[str, ItemMaps], indicator: str, year: str) -> MapLayer:
    """The COG of `indicator` in `year` (a year or "init"), or a 404 naming what exists."""
    if indicator not in catalogue:
        raise NotFoundError(f"no map of indicator {indicator!r}", field="indicator",
                            hint=f"indicators: {', '.join(catalogue) or 'none'}")
    maps = catalogue[indicator]
    if year not in maps.paths:
        raise NotFoundError(f"no map of {indicator} for year {year!r}", field="year",
                            hint=f"years: {', '.join(maps.paths)}")
    return MapLayer(maps.paths[year], maps.unit)


def choose_style(band: Band, ramp: str = AUTO_RAMP, vmin: float | None = None,
                 vmax: float | None = None) -> MapStyle:
    """The ramp and value range a map is drawn with: the given ones, else the band's own range;
    "auto" picks a diverging ramp centred on 0 for values of both signs, else viridis."""
    if ramp not in RAMP_NAMES:
        raise InputError(f"unknown colour ramp {ramp!r}", field="ramp",
                         hint=f"ramps: {', '.join(RAMP_NAMES)}")
    low, high = band.value_range() or (0.0, 0.0)
    low = low if vmin is None else vmin
    high = high if vmax is None else vmax
    if low > high:
        raise InputError(f"min ({low:g}) is above max ({high:g})", field="min")
    if ramp == AUTO_RAMP:
        ramp = "balance" if low < 0 < high else "viridis"
    if ramp in DIVERGING and vmin is None and vmax is None:
        extent = max(abs(low), abs(high))  # white is 0
        low, high = -extent, extent
    return MapStyle(ramp, float(low), float(high))


def _description(band: Band, grid: TileGrid, style: MapStyle,
                 nodata: float | None) -> dict[str, Any]:
    """Where a map lies (`bounds` of the raster, `data_bounds` of its valid pixels, None when
    none is valid), its range, its tile zooms and its colour scale."""
    value_range = band.value_range()
    data_bounds = band.valid_bounds()
    return {
        "crs": band.crs, "bounds": list(band.bounds),
        "data_bounds": list(data_bounds) if data_bounds is not None else None,
        "width": band.source_width, "height": band.source_height,
        "nodata": nodata, "n_valid": band.n_valid,
        "min": value_range[0] if value_range else None,
        "max": value_range[1] if value_range else None,
        "tiles": {"minzoom": grid.minzoom, "maxzoom": grid.maxzoom,
                  "max_display_zoom": min(MAX_ZOOM, grid.maxzoom + ZOOM_BEYOND_PIXELS),
                  "bounds_wgs84": list(grid.bounds), "size": TILE_SIZE},
        "scale": {"ramp": style.ramp, "min": style.vmin, "max": style.vmax,
                  "stops": [[position, colour] for position, colour in RAMPS[style.ramp]]},
    }


def describe_map(layer: MapLayer, indicator: str, year: str, *, ramp: str = AUTO_RAMP,
                 vmin: float | None = None, vmax: float | None = None) -> dict[str, Any]:
    """Where the map lies (`bounds` of the raster, `data_bounds` of its valid pixels), its tile
    zooms, and how it is coloured (what its tiles of the same parameters show)."""
    band = read_band(layer.path, max_size=MAX_IMAGE_SIZE)
    style = choose_style(band, ramp, vmin, vmax)
    return {"indicator": indicator, "year": year, "unit": layer.unit,
            **_description(band, tile_grid(layer.path), style, band.nodata)}


def render_tile(layer: MapLayer, style: MapStyle, z: int, x: int, y: int) -> bytes:
    """XYZ tile (z, x, y) of the map as a PNG: values coloured from the style's min to max
    (clipped), nodata and the world outside the raster transparent."""
    if not 0 <= x < 2 ** z or not 0 <= y < 2 ** z:
        raise NotFoundError(f"no tile {z}/{x}/{y}: x and y run from 0 to {2 ** z - 1} at zoom {z}",
                            field="x")
    tile = read_tile(layer.path, z, x, y)
    if tile is None:
        return _empty_tile()
    values, is_valid = tile
    return render_png(values, is_valid, style.vmin, style.vmax, style.ramp)


@cache
def _empty_tile() -> bytes:
    blank = np.zeros((TILE_SIZE, TILE_SIZE))
    return render_png(blank, blank.astype(bool), 0.0, 1.0, "viridis")


def tile_style(layer: MapLayer, ramp: str, vmin: float | None, vmax: float | None) -> MapStyle:
    """The style of a tile: given whole (a named ramp, min and max: what the description's tile
    link carries), else completed from the map's own range as `describe_map` does."""
    if ramp != AUTO_RAMP and vmin is not None and vmax is not None:
        if ramp not in RAMP_NAMES:
            raise InputError(f"unknown colour ramp {ramp!r}", field="ramp",
                             hint=f"ramps: {', '.join(RAMP_NAMES)}")
        if vmin > vmax:
            raise InputError(f"min ({vmin:g}) is above max ({vmax:g})", field="min")
        return MapStyle(ramp, float(vmin), float(vmax))
    return choose_style(read_band(layer.path, max_size=MAX_IMAGE_SIZE), ramp, vmin, vmax)


class LruCache:
    """A small thread-safe in-process LRU cache: `get(key, make)` returns the cached value or
    makes, stores and returns it (evicting the least recently used beyond `max_entries`)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
        value = make()  # outside the lock: tiles render in parallel
        with self._lock:
            self.misses += 1
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)


def map_value(layer: MapLayer, indicator: str, year: str, lon: float,
              lat: float) -> dict[str, Any]:
    """The value of the pixel at (lon, lat): null for nodata or outside the study area."""
    found = read_pixel(layer.path, lon, lat)
    answer: dict[str, Any] = {"indicator": indicator, "year": year, "lon": lon, "lat": lat,
                              "unit": layer.unit, "inside": found is not None,
                              "row": None, "col": None, "value": None}
    if found is not None:
        answer["row"], answer["col"], answer["value"] = found
    return answer


# -- differences of two maps -------------------------------------------------------------------
DIFFERENCE_RAMP = "balance"  # diverging: white is 0


@dataclass(frozen=True)
class DifferenceLayer:
    """`minuend` minus `subtrahend`: two mosaics on the same grid, in the same unit."""
    minuend: MapLayer
    subtrahend: MapLayer

    @property
    def unit(self) -> str:
        return self.minuend.unit


def difference_layer(minuend: MapLayer, subtrahend: MapLayer) -> DifferenceLayer:
    """The difference of two maps, or a 422 when their grids (CRS, pixel size and origin,
    size) or units differ: pixels of two grids cannot be subtracted one for one."""
    if minuend.unit != subtrahend.unit:
        raise InputError(f"the maps have other units ({minuend.unit} and {subtrahend.unit})",
                         field="with", hint="compare an indicator with itself")
    first, second = raster_grid(minuend.path), raster_grid(subtrahend.path)
    if first != second:
        raise InputError(
            f"the maps are on other grids ({first.width} x {first.height} px, {first.crs}, "
            f"origin {first.transform[2]:g}, {first.transform[5]:g}; and {second.width} x "
            f"{second.height} px, {second.crs}, origin {second.transform[2]:g}, "
            f"{second.transform[5]:g})", field="with",
            hint="compare runs of one landscape (a simulation and its scenarios)")
    return DifferenceLayer(minuend, subtrahend)


def _band_difference(layer: DifferenceLayer) -> Band:
    """Both bands read alike (same grid: same decimation) and subtracted where both are valid."""
    first = read_band(layer.minuend.path, max_size=MAX_IMAGE_SIZE)
    second = read_band(layer.subtrahend.path, max_size=MAX_IMAGE_SIZE)
    is_valid = first.is_valid & second.is_valid
    values = np.where(is_valid, first.values - second.values, 0.0)
    return Band(values=values, is_valid=is_valid, bounds=first.bounds, crs=first.crs,
                nodata=None, source_width=first.source_width, source_height=first.source_height)


def difference_style(layer: DifferenceLayer, extent: float | None) -> MapStyle:
    """The diverging ramp from -extent to +extent (default: the largest |difference|)."""
    if extent is None:
        value_range = _band_difference(layer).value_range() or (0.0, 0.0)
        extent = max(abs(value_range[0]), abs(value_range[1]))
    return MapStyle(DIFFERENCE_RAMP, -float(extent), float(extent))


def describe_difference(layer: DifferenceLayer, indicator: str, year: str, other_year: str, *,
                        extent: float | None = None) -> dict[str, Any]:
    """As `describe_map`, for the difference (`year` of the first map minus `other_year` of the
    second): its range, and a scale symmetric around 0."""
    band = _band_difference(layer)
    value_range = band.value_range()
    if extent is None:  # the largest |difference|: the same as `difference_style`'s
        extent = max(abs(value) for value in value_range or (0.0, 0.0))
    style = MapStyle(DIFFERENCE_RAMP, -float(extent), float(extent))
    return {"indicator": indicator, "year": year, "other_year": other_year, "unit": layer.unit,
            "title": f"{indicator}: {year} minus {other_year}",
            **_description(band, tile_grid(layer.minuend.path), style, None)}


def render_difference_tile(layer: DifferenceLayer, style: MapStyle, z: int, x: int,
                           y: int) -> bytes:
    """XYZ tile (z, x, y) of the difference as a PNG; transparent where either map has no
    data (nearest neighbour on one grid: each tile pixel is one raster pixel of both)."""
    if not 0 <= x < 2 ** z or not 0 <= y < 2 ** z:
        raise NotFoundError(f"no tile {z}/{x}/{y}: x and y run from 0 to {2 ** z - 1} at zoom {z}",
                            field="x")
    first = read_tile(layer.minuend.path, z, x, y)
    second = read_tile(layer.subtrahend.path, z, x, y) if first is not None else None
    if first is None or second is None:
        return _empty_tile()
    is_valid = first[1] & second[1]
    values = np.where(is_valid, first[0] - second[0], 0.0)
    return render_png(values, is_valid, style.vmin, style.vmax, style.ramp)


def difference_value(layer: DifferenceLayer, indicator: str, year: str, other_year: str,
                     lon: float, lat: float) -> dict[str, Any]:
    """The difference at the pixel holding (lon, lat), with both values: null for nodata in
    either map or outside."""
    first = read_pixel(layer.minuend.path, lon, lat)
    second = read_pixel(layer.subtrahend.path, lon, lat)
    answer: dict[str, Any] = {"indicator": indicator, "year": year, "other_year": other_year,
                              "lon": lon, "lat": lat, "unit": layer.unit,
                              "inside": first is not None, "row": None, "col": None,
                              "value": None, "minuend": None, "subtrahend": None}
    if first is not None and second is not None:
        answer["row"], answer["col"] = first[0], first[1]
        answer["minuend"], answer["subtrahend"] = first[2], second[2]
        if first[2] is not None and second[2] is not None:
            answer["value"] = first[2] - second[2]
    return answer


def tileset_bounds(catalogue: dict[str, ItemMaps]) -> dict[str, tuple[float, float, float, float]]:
    """Per item with maps: the longitude/latitude bounds of its mosaics (its first year's; a
    run's mosaics share one grid)."""
    return {name: tile_grid(next(iter(item.paths.values()))).bounds
            for name, item in catalogue.items()}
