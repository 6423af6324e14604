"""What a GCBM run leaves in its output directory, and the JSON summaries the API serves from it.

The layout is upstream GCBM's (gcbm-spec.md §6), declared here once:
- `gcbm_output.db`: CBMAggregatorSQLiteWriter tables (DateDimension, PoolDimension,
  LocationDimension, Pools, Fluxes, …), values in tonnes of carbon (already × pixel area);
- `annual_summary.json`: the main indicators per year (written by every run);
- `<indicator>/<lon>_<lat>/<indicator>_<lon>_<lat>_<block>_<step>.tif`: WriteVariableGeotiff
  blocks, values per hectare, step 1 = the first simulated year;
- `cog/<indicator>_<year>.tif` (`<indicator>_init.tif` for items written at init): the blocks
  of one step as a Cloud-Optimized GeoTIFF of the whole study area (runner.gcbm_outputs).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from flintcloud.errors import InputError, NotFoundError

RESULTS_DB = "gcbm_output.db"
_BLOCK_TIFF = re.compile(r"^(?P<indicator>.+)_(?P<lon>[-+]?\d{3})_(?P<lat>[-+]?\d{3})_"
                         r"(?P<block>\d+)_(?P<step>\d+)\.tiff?$")

ANNUAL_SUMMARY = "annual_summary.json"  # written by every run (runner.gcbm_outputs)
COG_FOLDER = "cog"
_COG = re.compile(r"^(?P<indicator>[A-Za-z0-9_]+)_(?P<label>\d{1,4}|init)\.tif$")
# Units of the indicator maps (WriteVariableGeotiff writes values per hectare; fluxes per year).
_UNITS = {"Age": "years"}


def annual_summary(output_dir: Path) -> list[dict]:
    """Per simulated year: area, stocks, NPP, Rh, NEP, NBP, emissions by gas and disturbed area
    by type, in tonnes C (flintcloud.gcbm.outputs.compiled.summary); year 0 (spinup) left out."""
    path = output_dir / ANNUAL_SUMMARY
    if not path.is_file():
        raise NotFoundError("the run wrote no annual summary", source=ANNUAL_SUMMARY)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"unreadable annual summary: {err}", source=ANNUAL_SUMMARY) from err


def indicator_names(output_dir: Path) -> list[str]:
    """The indicators with at least one block GeoTIFF."""
    if not output_dir.is_dir():
        return []
    return sorted(path.name for path in output_dir.iterdir()
                  if path.is_dir() and any(_block_tiffs(output_dir, path.name)))


def _block_tiffs(output_dir: Path, indicator: str):
    for path in sorted((output_dir / indicator).glob("*/*.tif*")):
        match = _BLOCK_TIFF.match(path.name)
        if match and match["indicator"] == indicator:
            yield int(match["step"]), path


def indicator_series(output_dir: Path, indicator: str, start_year: int) -> list[dict]:
    """Per step of one indicator, over every simulated pixel: mean, min, max (per hectare)."""
    import rasterio

    if indicator not in indicator_names(output_dir):
        raise NotFoundError(f"no indicator {indicator!r}",
                            hint=f"indicators: {', '.join(indicator_names(output_dir)) or 'none'}")
    by_step: dict[int, list[np.ndarray]] = defaultdict(list)
    for step, path in _block_tiffs(output_dir, indicator):
        with rasterio.open(path) as raster:
            values = raster.read(1, masked=True)
        by_step[step].append(values.compressed().astype(np.float64))
    series = []
    for step in sorted(by_step):
        values = np.concatenate(by_step[step])
        series.append({
            "step": step, "year": start_year + step - 1, "n_pixels": int(values.size),
            "mean": float(values.mean()) if values.size else None,
            "min": float(values.min()) if values.size else None,
            "max": float(values.max()) if values.size else None,
        })
    return series


def map_catalogue(output_dir: Path) -> dict[str, dict[str, Path]]:
    """Indicator -> {year label ("2015", or "init") -> COG path}, from the files a run wrote.
    The one place a map's indicator and year become a path: callers look names up here."""
    folder = output_dir / COG_FOLDER
    catalogue: dict[str, dict[str, Path]] = defaultdict(dict)
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            match = _COG.match(path.name)
            if match and path.is_file() and not path.is_symlink():
                catalogue[match["indicator"]][match["label"]] = path
    return {name: dict(sorted(years.items(), key=lambda item: _year_order(item[0])))
            for name, years in sorted(catalogue.items())}


def _year_order(label: str) -> tuple[int, int]:
    return (0, 0) if label == "init" else (1, int(label))


def indicator_unit(indicator: str) -> str:
    """The unit of an indicator's pixel values."""
    if indicator in _UNITS:
        return _UNITS[indicator]
    return "tC/ha" if indicator.endswith("_C") else "tC/ha/yr"  # a stock, or a flux (change)
