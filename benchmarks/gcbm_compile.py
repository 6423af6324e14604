"""Benchmark: compile GCBM results databases into CompileResults' reporting tables.

    python benchmarks/gcbm_compile.py [--locations N] [--repeat R] [--keep DIR]

Times `compile_results` (read, compute, write), then `annual_summary` of its output, on the
reference run's `gcbm_output.db` (if ../shared is present) and on a synthetic results database
with N locations (default 1e5: a GCBM-like landscape of N/12 classifier sets over a spinup year
and 11 annual steps, 30 pools, about 29 annual fluxes per location and 3 % of stands disturbed
each year). Each compile runs in a fresh process, so peak memory is the compile's own. Figures
go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flintcloud.gcbm.science.pools import BIOMASS_POOLS, DOM_POOLS, POOL_NAMES

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("FLINTCLOUD_SHARED_DIR", ROOT.parent / "shared")) / \
    "data" / "gcbm-reference" / "run" / "output" / "gcbm_output.db"
YEARS = range(2010, 2021)
LIVE = [POOL_NAMES[pool] for pool in BIOMASS_POOLS]
DOM = [POOL_NAMES[pool] for pool in DOM_POOLS]
POOLS = sorted(POOL_NAMES)
# Annual fluxes per location: growth, litterfall/mortality, decay (src, dst) pool pairs.
ANNUAL = ([("Atmosphere", p) for p in LIVE] + list(zip(LIVE[:8], DOM[:8], strict=True))
          + [(p, "CO2") for p in DOM])
# Disturbance fluxes per disturbed location: biomass and DOM to gases and DOM, merch to Products.
DISTURBANCE = ([(p, g) for p in LIVE + DOM for g in ("CO2", "CH4", "CO")]
               + list(zip(LIVE, DOM[:10], strict=True)) + [("SoftwoodMerch", "Products")])


def synthetic_results(n_locations: int, seed: int = 42):
    """A GCBM-like ResultsTables with about n_locations locations (vectorised, seeded)."""
    import numpy as np
    import pandas as pd

    from flintcloud.gcbm.outputs.results_db import ResultsTables

    rng = np.random.default_rng(seed)
    years = np.array([0, *YEARS])
    n_sets = max(1, n_locations // len(years))
    species = np.array(["BS", "WS", "JP", "TA", "BF", "BP", "GA", "WB"])
    sets = pd.DataFrame({"id": np.arange(1, n_sets + 1),
                         "Species": species[rng.integers(0, species.size, n_sets)],
                         "Site": (np.arange(n_sets) // species.size).astype(str)})
    # Location = (set, year); 2 % of sets become cropland (non-forest, age N/A) in a random year.
    set_idx = np.repeat(np.arange(n_sets), years.size)
    year_idx = np.tile(np.arange(years.size), n_sets)
    initial_age = rng.integers(0, 250, n_sets)
    age = initial_age[set_idx] + np.maximum(years[year_idx] - 2009, 0)
    is_deforested = rng.random(n_sets) < 0.02
    deforested_in = rng.integers(1, years.size, n_sets)
    is_cropland = is_deforested[set_idx] & (year_idx >= deforested_in[set_idx])
    age_class = np.where(is_cropland, 1, 2 + np.minimum(age // 20, 15))
    n = set_idx.size
    location_id = np.arange(1, n + 1)
    area = rng.uniform(0.5, 50.0, n_sets)[set_idx]
    locations = pd.DataFrame({"id": location_id, "classifierSetDimId": set_idx + 1,
                              "dateDimId": year_idx + 1, "landClassDimId": 1 + is_cropland,
                              "ageClassDimId": age_class, "area": area})
    pool_id = {name: i for i, name in enumerate(POOLS, start=1)}
    pools = pd.DataFrame({"locationDimId": np.repeat(location_id, len(POOLS)),
                          "poolId": np.tile(np.arange(1, len(POOLS) + 1), n),
                          "poolValue": rng.uniform(0.0, 100.0, n * len(POOLS))})
    # Disturbances: 3 % of forest locations after spinup, plus every deforestation.
    is_event = (year_idx > 0) & ((rng.random(n) < 0.03) | (is_cropland & (year_idx ==
                                                                          deforested_in[set_idx])))
    event_location = location_id[is_event]
    events = pd.DataFrame({"id": np.arange(1, event_location.size + 1),
                           "locationDimId": event_location,
                           "disturbanceTypeDimId": np.where(is_cropland[is_event], 3,
                                                            rng.integers(1, 3, is_event.sum())),
                           "previousLocationDimId": event_location - 1,
                           "area": area[is_event] * rng.uniform(0.1, 1.0, is_event.sum())})
    annual_location = location_id[year_idx > 0]
    fluxes = pd.concat([_fluxes(rng, annual_location, None, ANNUAL, pool_id),
                        _fluxes(rng, event_location, events["id"].to_numpy(), DISTURBANCE,
                                pool_id)], ignore_index=True)
    return ResultsTables(
        classifiers=("Species", "Site"), ClassifierSetDimension=sets,
        DateDimension=pd.DataFrame({"id": np.arange(1, years.size + 1), "step": np.arange(
            years.size), "year": years}),
        PoolDimension=pd.DataFrame({"id": np.arange(1, len(POOLS) + 1), "poolName": POOLS}),
        LandClassDimension=pd.DataFrame({"id": [1, 2], "name": ["UNFCCC_FL_R_FL",
                                                                "UNFCCC_FL_L_CL"]}),
        AgeClassDimension=pd.DataFrame({"id": np.arange(1, 18),
                                        "startAge": [-1, *range(0, 301, 20)],
                                        "endAge": [-1, *range(19, 300, 20), -1]}),
        LocationDimension=locations,
        DisturbanceTypeDimension=pd.DataFrame({"id": [1, 2, 3], "disturbanceType": [1, 4, 7],
                                               "disturbanceTypeName": [
                                                   "Wildfire", "Clearcut harvesting",
                                                   "Deforestation"]}),
        DisturbanceDimension=events, Pools=pools, Fluxes=fluxes,
        ErrorDimension=pd.DataFrame(columns=["id", "module", "error"]),
        LocationErrorDimension=pd.DataFrame(columns=["locationDimId", "errorDimId"]),
        AgeArea=locations[["id", "ageClassDimId", "area"]].rename(columns={"id": "locationDimId"}))


def _fluxes(rng, location_ids, event_ids, pairs, pool_id):
    import numpy as np
    import pandas as pd

    n, k = location_ids.size, len(pairs)
    src = np.array([pool_id[s] for s, _ in pairs])
    dst = np.array([pool_id[d] for _, d in pairs])
    events = np.repeat(event_ids, k) if event_ids is not None else np.full(n * k, np.nan)
    return pd.DataFrame({"locationDimId": np.repeat(location_ids, k),
                         "moduleInfoDimId": 3 if event_ids is not None else 1,
                         "disturbanceDimId": events, "poolSrcDimId": np.tile(src, n),
                         "poolDstDimId": np.tile(dst, n),
                         "fluxValue": rng.uniform(0.0, 5.0, n * k)})


def measure(results_db: Path, output_db: Path) -> dict:
    """In a fresh process: compile once, return seconds, peak memory and output rows."""
    import sqlite3

    from flintcloud.gcbm.outputs.compiled import annual_summary, compile_results

    started = time.perf_counter()
    compile_results(results_db, output_db)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    annual_summary(output_db)
    summary_seconds = time.perf_counter() - started
    with sqlite3.connect(output_db) as connection:
        rows = sum(connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
                   for (name,) in connection.execute("SELECT name FROM sqlite_master").fetchall())
    connection.close()
    return {"seconds": seconds, "peak_mb": _peak_mb(), "output_rows": rows,
            "summary_seconds": summary_seconds}


def _peak_mb() -> float:
    """This process's peak RSS. VmHWM restarts at exec; ru_maxrss would include the parent's
    peak inherited through fork."""
    try:
        status = Path("/proc/self/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines()
                    if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(results_db: Path, output_db: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", str(results_db), str(output_db)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _report(name: str, results_db: Path, work: Path, repeat: int) -> None:
    import sqlite3

    with sqlite3.connect(results_db) as connection:
        counts = {table: connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                  for table in ("LocationDimension", "Pools", "Fluxes")}
    connection.close()
    runs = [_child(results_db, work / f"{name}_compiled.db") for _ in range(repeat)]
    best = min(runs, key=lambda run: run["seconds"])
    print(f"{name:10} {counts['LocationDimension']:>10,} {counts['Pools']:>11,} "
          f"{counts['Fluxes']:>11,} {best['seconds']:>8.2f} {best['peak_mb']:>8.0f} "
          f"{best['output_rows']:>12,} {results_db.stat().st_size / 2**20:>8.1f} "
          f"{best['summary_seconds']:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs")
    parser.add_argument("--keep", type=Path, help="keep the databases in this directory")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    from flintcloud.gcbm.outputs.results_db import write_results_db

    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        synthetic = write_results_db(work / "synthetic_gcbm_output.db",
                                     synthetic_results(args.locations))
        print(f"built the synthetic results database in {time.perf_counter() - started:.1f} s")
        print(f"{'database':10} {'locations':>10} {'pool rows':>11} {'flux rows':>11} "
              f"{'time s':>8} {'peak MB':>8} {'output rows':>12} {'input MB':>8} "
              f"{'summary s':>9}")
        if REFERENCE.exists():
            _report("reference", REFERENCE, work, args.repeat)
        _report("synthetic", synthetic, work, args.repeat)
    print(f"time: best of {args.repeat} compile_results runs (read, compute, write), each in a "
          "fresh process; summary: annual_summary of the compiled database")


if __name__ == "__main__":
    main()
