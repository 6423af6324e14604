"""A stand-in GCBM engine for tests: it reads the project it is given and writes outputs in the
layout `flintcloud.gcbm.outputs.catalogue` reads, with the `items` of `manifest.json` that say what
each output item is. Only the numbers are invented."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from rasterio.transform import from_origin

from flintcloud.gcbm.outputs.layout import ANNUAL_SUMMARY_JSON, MANIFEST, RESULTS_DB, item_unit
from flintcloud.service.gcbm_engine import block_progress

POOLS = ["SoftwoodMerch", "AboveGroundSlowSoil", "BelowGroundSlowSoil", "Atmosphere", "CO2"]


def run_fake_gcbm(project_dir: Path, output_dir: Path, progress: Any) -> None:
    domain = json.loads((project_dir / "config" / "localdomain.json").read_text())["LocalDomain"]
    start, end = int(domain["start_date"][:4]), int(domain["end_date"][:4])
    years = list(range(start, end))
    for done, year in enumerate(years, start=1):
        progress(*block_progress(done, len(years), year))
    connection = sqlite3.connect(output_dir / RESULTS_DB)
    connection.executescript("""
        CREATE TABLE DateDimension (id INTEGER PRIMARY KEY, step INTEGER, year INTEGER);
        CREATE TABLE PoolDimension (id INTEGER PRIMARY KEY, poolName TEXT);
        CREATE TABLE LocationDimension (id INTEGER PRIMARY KEY, dateDimId INTEGER, area REAL);
        CREATE TABLE Pools (id INTEGER PRIMARY KEY, locationDimId INTEGER, poolId INTEGER,
                            poolValue REAL);
        CREATE TABLE Fluxes (id INTEGER PRIMARY KEY, locationDimId INTEGER,
                             disturbanceDimId INTEGER, poolSrcDimId INTEGER,
                             poolDstDimId INTEGER, fluxValue REAL);
    """)
    connection.executemany("INSERT INTO PoolDimension VALUES (?, ?)", enumerate(POOLS, start=1))
    for step, year in enumerate([0, *years]):
        connection.execute("INSERT INTO DateDimension VALUES (?, ?, ?)", (step + 1, step, year if step else 0))
        connection.execute("INSERT INTO LocationDimension VALUES (?, ?, ?)", (step + 1, step + 1, 10.0))
        for pool_id in range(1, len(POOLS) + 1):
            connection.execute("INSERT INTO Pools (locationDimId, poolId, poolValue) VALUES (?, ?, ?)",
                               (step + 1, pool_id, 100.0 * pool_id + step))
        # NPP (Atmosphere -> SoftwoodMerch) 5 tC; decay (AG slow soil -> CO2) 2 tC
        connection.execute("INSERT INTO Fluxes (locationDimId, disturbanceDimId, poolSrcDimId, "
                           "poolDstDimId, fluxValue) VALUES (?, NULL, 4, 1, 5.0)", (step + 1,))
        connection.execute("INSERT INTO Fluxes (locationDimId, disturbanceDimId, poolSrcDimId, "
                           "poolDstDimId, fluxValue) VALUES (?, NULL, 2, 5, 2.0)", (step + 1,))
    connection.commit()
    connection.close()
    # the annual summary every real run writes (column names of flintcloud.gcbm.outputs.compiled)
    summary = [{"year": year, "area_ha": 10.0, "total_biomass_tc": 100.0 + step,
                "soil_tc": 300.0 + step, "npp_tc_per_yr": 5.0, "rh_tc_per_yr": 2.0,
                "nep_tc_per_yr": 3.0} for step, year in enumerate(years, start=1)]
    (output_dir / ANNUAL_SUMMARY_JSON).write_text(json.dumps(summary))
    folder = output_dir / "NPP" / "-106_055"
    folder.mkdir(parents=True)
    for step in range(1, len(years) + 1):
        values = np.full((2, 2), float(step), dtype=np.float32)
        values[0, 0] = -1e38
        with rasterio.open(folder / f"NPP_-106_055_51_{step}.tif", "w", driver="GTiff", width=2,
                           height=2, count=1, dtype="float32", crs="EPSG:4326", nodata=-1e38,
                           transform=from_origin(-106, 55, 0.00025, 0.00025)) as raster:
            raster.write(values, 1)
    npp = manifest_item("NPP", item_unit(variable=None, is_flux=True, area_adjusted=False,
                                         subtract_previous=False), "fluxes", [str(y) for y in years])
    write_manifest_items(output_dir, [npp])


def manifest_item(name: str, unit: str, kind: str, years: list[str],
                  mosaics: dict[str, str] | None = None) -> dict[str, Any]:
    """One entry of the manifest's `items`, as the run writes it (block files in `<name>/`)."""
    return {"name": name, "unit": unit, "kind": kind, "dtype": "float32", "nodata": -1e38,
            "folder": name, "years": years, "mosaics": mosaics or {}}


def write_manifest_items(output_dir: Path, items: list[dict[str, Any]]) -> None:
    """Set the `items` of output_dir's manifest.json (the rest of a real manifest is left out)."""
    path = output_dir / MANIFEST
    document = json.loads(path.read_text()) if path.is_file() else {"manifest_version": 1,
                                                                     "kind": "gcbm"}
    document["items"] = items
    path.write_text(json.dumps(document, indent=2))
