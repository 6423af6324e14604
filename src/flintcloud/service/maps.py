"""Indicator maps of a GCBM run: one COG (indicator, year) as a coloured PNG, with what a client
needs to place and read it (bounds, CRS, value range, colour ramp) and single pixel values.

Paths and units come only from `catalogue.map_catalogue` (what the run's manifest declares); the
indicator and the year a client asks for are looked up there, never joined into a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flintcloud.errors import InputError, NotFoundError
from flintcloud.gcbm.outputs.catalogue import ItemMaps
from flintcloud.io.raster_image import DIVERGING, RAMPS, Band, read_band, read_pixel, render_png

AUTO_RAMP = "auto"
RAMP_NAMES = (AUTO_RAMP, *RAMPS)
MAX_IMAGE_SIZE = 2048  # pixels per side; larger mosaics are decimated (nearest) for display


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


def describe_map(layer: MapLayer, indicator: str, year: str, *, ramp: str = AUTO_RAMP,
                 vmin: float | None = None, vmax: float | None = None) -> dict[str, Any]:
    """Where the map lies (`bounds` of the image, `data_bounds` of its valid pixels) and how it
    is coloured (what the PNG of the same parameters shows)."""
    band = read_band(layer.path, max_size=MAX_IMAGE_SIZE)
    style = choose_style(band, ramp, vmin, vmax)
    value_range = band.value_range()
    data_bounds = band.valid_bounds()  # None when no pixel is valid
    height, width = band.values.shape
    return {
        "indicator": indicator, "year": year, "unit": layer.unit,
        "crs": band.crs, "bounds": list(band.bounds),
        "data_bounds": list(data_bounds) if data_bounds is not None else None,
        "width": band.source_width, "height": band.source_height,
        "image_width": width, "image_height": height,
        "nodata": band.nodata, "n_valid": band.n_valid,
        "min": value_range[0] if value_range else None,
        "max": value_range[1] if value_range else None,
        "scale": {"ramp": style.ramp, "min": style.vmin, "max": style.vmax,
                  "stops": [[position, colour] for position, colour in RAMPS[style.ramp]]},
    }


def render_map(layer: MapLayer, *, ramp: str = AUTO_RAMP, vmin: float | None = None,
               vmax: float | None = None) -> bytes:
    """The map as a PNG: nodata transparent, values coloured from min to max (clipped)."""
    band = read_band(layer.path, max_size=MAX_IMAGE_SIZE)
    style = choose_style(band, ramp, vmin, vmax)
    return render_png(band, style.vmin, style.vmax, style.ramp)


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
