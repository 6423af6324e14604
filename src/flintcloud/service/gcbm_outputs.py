"""What a GCBM run leaves in its output directory, and the JSON summaries the API serves from it.

The layout is upstream GCBM's (gcbm-spec.md §6), declared here once:
- `gcbm_output.db`: CBMAggregatorSQLiteWriter tables (DateDimension, PoolDimension,
  LocationDimension, Pools, Fluxes, …), values in tonnes of carbon (already × pixel area);
- `<indicator>/<lon>_<lat>/<indicator>_<lon>_<lat>_<block>_<step>.tif`: WriteVariableGeotiff
  blocks, values per hectare, step 1 = the first simulated year.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from pathlib import Path

import numpy as np

from flintcloud.errors import InputError, NotFoundError

RESULTS_DB = "gcbm_output.db"
_BLOCK_TIFF = re.compile(r"^(?P<indicator>.+)_(?P<lon>[-+]?\d{3})_(?P<lat>[-+]?\d{3})_"
                         r"(?P<block>\d+)_(?P<step>\d+)\.tiff?$")

# Pool sets (gcbm-spec §1.8, §6.1). To be replaced by the engine's own constants after the merge.
BIOMASS = ("SoftwoodMerch", "SoftwoodFoliage", "SoftwoodOther", "SoftwoodCoarseRoots",
           "SoftwoodFineRoots", "HardwoodMerch", "HardwoodFoliage", "HardwoodOther",
           "HardwoodCoarseRoots", "HardwoodFineRoots")
DEAD_ORGANIC_MATTER = ("AboveGroundVeryFastSoil", "BelowGroundVeryFastSoil", "AboveGroundFastSoil",
                       "BelowGroundFastSoil", "MediumSoil", "AboveGroundSlowSoil",
                       "BelowGroundSlowSoil", "SoftwoodStemSnag", "SoftwoodBranchSnag",
                       "HardwoodStemSnag", "HardwoodBranchSnag")
ECOSYSTEM = BIOMASS + DEAD_ORGANIC_MATTER
SOIL = ("BelowGroundVeryFastSoil", "BelowGroundSlowSoil")
GASES = ("CO2", "CH4", "CO")

POOL_INDICATORS = {
    "total_ecosystem_tc": ECOSYSTEM,
    "total_biomass_tc": BIOMASS,
    "dead_organic_matter_tc": DEAD_ORGANIC_MATTER,
    "soil_tc": SOIL,
}
# name -> (source pools, sink pools, annual processes only?)
FLUX_INDICATORS = {
    "npp_tc": (("Atmosphere",), BIOMASS, False),
    "decomposition_releases_tc": (DEAD_ORGANIC_MATTER, GASES, True),
    "total_emissions_tc": (ECOSYSTEM, GASES, False),
}


def _connect(results_db: Path) -> sqlite3.Connection:
    if not results_db.is_file():
        raise NotFoundError("the run wrote no results database", source=RESULTS_DB)
    return sqlite3.connect(f"file:{results_db}?mode=ro", uri=True)


def annual_summary(output_dir: Path) -> list[dict]:
    """Per simulated year: area, pool indicators and flux indicators in tonnes C (NEP = NPP - Rh).

    Year 0 (the post-spinup state) is left out, as GCBM.CompileResults does."""
    connection = _connect(output_dir / RESULTS_DB)
    try:
        area = dict(connection.execute(
            "SELECT d.year, SUM(l.area) FROM LocationDimension l "
            "JOIN DateDimension d ON l.dateDimId = d.id WHERE d.year > 0 GROUP BY d.year"))
        pools: dict[int, dict[str, float]] = defaultdict(dict)
        for year, pool, value in connection.execute(
                "SELECT d.year, p.poolName, SUM(v.poolValue) FROM Pools v "
                "JOIN LocationDimension l ON v.locationDimId = l.id "
                "JOIN DateDimension d ON l.dateDimId = d.id "
                "JOIN PoolDimension p ON v.poolId = p.id "
                "WHERE d.year > 0 GROUP BY d.year, p.poolName"):
            pools[year][pool] = value
        fluxes = connection.execute(
            "SELECT d.year, s.poolName, t.poolName, f.disturbanceDimId IS NULL, SUM(f.fluxValue) "
            "FROM Fluxes f JOIN LocationDimension l ON f.locationDimId = l.id "
            "JOIN DateDimension d ON l.dateDimId = d.id "
            "JOIN PoolDimension s ON f.poolSrcDimId = s.id "
            "JOIN PoolDimension t ON f.poolDstDimId = t.id "
            "WHERE d.year > 0 GROUP BY d.year, s.poolName, t.poolName, "
            "f.disturbanceDimId IS NULL").fetchall()
    except sqlite3.DatabaseError as err:
        raise InputError(f"unreadable results database: {err}", source=RESULTS_DB) from err
    finally:
        connection.close()
    years = sorted(set(area) | set(pools))
    summary = {year: {"year": year, "area_ha": area.get(year, 0.0)} for year in years}
    for year in years:
        for name, members in POOL_INDICATORS.items():
            summary[year][name] = sum(pools[year].get(pool, 0.0) for pool in members)
        for name in FLUX_INDICATORS:
            summary[year][name] = 0.0
    for year, source, sink, is_annual_process, value in fluxes:
        for name, (sources, sinks, annual_only) in FLUX_INDICATORS.items():
            if source in sources and sink in sinks and (is_annual_process or not annual_only):
                summary[year][name] += value
    for row in summary.values():
        row["nep_tc"] = row["npp_tc"] - row["decomposition_releases_tc"]
    return [summary[year] for year in years]


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
