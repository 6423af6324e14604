"""Our gcbm_output.db equals real GCBM's, table by table, rows matched by dimension values."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import numpy as np
import pandas as pd
import pytest

from flintcloud.gcbm.outputs.results_db import write_results_db
from flintcloud.gcbm.outputs.results_tables import results_tables
from tests.conftest import shared_path
from tests.gcbm.conftest import REFERENCE

RTOL = 1e-9


def _read(path) -> dict[str, pd.DataFrame]:
    with closing(sqlite3.connect(path)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {name: pd.read_sql_query(f'SELECT * FROM "{name}"', db) for name in tables}


def _locations(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """LocationDimension with every dimension id replaced by its values."""
    classifiers = t["ClassifierSetDimension"].rename(columns={"id": "classifierSetDimId"})
    dates = t["DateDimension"].rename(columns={"id": "dateDimId"})[["dateDimId", "step", "year"]]
    land = t["LandClassDimension"].rename(columns={"id": "landClassDimId", "name": "land_class"})
    ages = t["AgeClassDimension"].rename(columns={"id": "ageClassDimId"})
    frame = (t["LocationDimension"].merge(classifiers, on="classifierSetDimId")
             .merge(dates, on="dateDimId").merge(land, on="landClassDimId")
             .merge(ages, on="ageClassDimId"))
    return frame.drop(columns=["classifierSetDimId", "dateDimId", "landClassDimId",
                               "ageClassDimId"])


def _location_key(t) -> tuple[pd.DataFrame, list[str]]:
    locations = _locations(t)
    keys = [c for c in locations.columns if c not in ("id", "area")]
    return locations, keys


def _facts(t: dict[str, pd.DataFrame]) -> dict[str, tuple[pd.DataFrame, list[str], str]]:
    """Each fact table denormalised: (frame, key columns, value column)."""
    locations, keys = _location_key(t)
    located = locations.rename(columns={"id": "locationDimId", "area": "location_area"})
    previous = locations.rename(columns={"id": "previousLocationDimId", "area": "prev_area",
                                         **{k: f"prev_{k}" for k in keys}})
    pools = t["Pools"].merge(located, on="locationDimId").merge(
        t["PoolDimension"].rename(columns={"id": "poolId"}), on="poolId")
    types = t["DisturbanceTypeDimension"].rename(columns={"id": "disturbanceTypeDimId"})
    disturbances = (t["DisturbanceDimension"].merge(located, on="locationDimId")
                    .merge(types, on="disturbanceTypeDimId")
                    .merge(previous.drop(columns="prev_area"), on="previousLocationDimId"))
    modules = t["ModuleInfoDimension"].rename(columns={"id": "moduleInfoDimId"})
    pool_names = t["PoolDimension"].set_index("id")["poolName"]
    dist_key = disturbances[["id", "disturbanceTypeName", *(f"prev_{k}" for k in keys)]].rename(
        columns={"id": "disturbanceDimId"})
    fluxes = t["Fluxes"].merge(located, on="locationDimId").merge(modules, on="moduleInfoDimId")
    fluxes = fluxes.merge(dist_key, on="disturbanceDimId", how="left")
    fluxes["source"] = fluxes["poolSrcDimId"].map(pool_names)
    fluxes["sink"] = fluxes["poolDstDimId"].map(pool_names)
    ages = t["AgeClassDimension"].rename(columns={"id": "ageClassDimId", "startAge": "aa_start",
                                                  "endAge": "aa_end"})
    age_area = t["AgeArea"].merge(located, on="locationDimId").merge(ages, on="ageClassDimId")
    prev_keys = [f"prev_{k}" for k in keys]
    return {
        "LocationDimension": (locations, keys, "area"),
        "Pools": (pools, [*keys, "poolName"], "poolValue"),
        "Fluxes": (fluxes.fillna({"disturbanceTypeName": ""}),
                   [*keys, "moduleName", "disturbanceTypeName", *prev_keys, "source", "sink"],
                   "fluxValue"),
        "DisturbanceDimension": (disturbances, [*keys, "disturbanceType", "disturbanceTypeName",
                                                *prev_keys], "area"),
        "AgeArea": (age_area, [*keys, "aa_start", "aa_end"], "area"),
    }


@pytest.fixture(scope="module")
def databases(demo_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("db") / "gcbm_output.db"
    write_results_db(path, results_tables(demo_run.results, module_ids=demo_run.module_ids,
                                          disturbance_codes=demo_run.disturbance_codes))
    reference = shared_path(*REFERENCE, "run", "output", "gcbm_output.db")
    return _read(path), _read(reference)


def test_schema_equals_gcbm(databases):
    ours, theirs = databases
    assert set(ours) == set(theirs)
    for name in theirs:
        assert list(ours[name].columns) == list(theirs[name].columns), name


@pytest.mark.parametrize("table, keys", [
    ("DateDimension", ["step", "year", "month", "day", "fracOfStep", "lengthOfStepInYears"]),
    ("PoolDimension", ["id", "poolName"]),
    ("AgeClassDimension", ["id", "startAge", "endAge"]),
    ("LandClassDimension", ["name"]),
    ("DisturbanceTypeDimension", ["disturbanceType", "disturbanceTypeName"]),
    ("ModuleInfoDimension", ["libraryType", "libraryInfoId", "moduleType", "moduleId",
                             "moduleName"]),
    ("ClassifierSetDimension", ["Classifier1", "Classifier2"]),
    ("ErrorDimension", ["module", "error"]),
])
def test_dimensions_equal_gcbm(databases, table, keys):
    ours, theirs = databases
    pd.testing.assert_frame_equal(
        ours[table][keys].sort_values(keys).reset_index(drop=True),
        theirs[table][keys].sort_values(keys).reset_index(drop=True), check_dtype=False)


@pytest.mark.parametrize("table", ["LocationDimension", "Pools", "Fluxes", "DisturbanceDimension",
                                   "AgeArea"])
def test_facts_equal_gcbm(databases, table):
    ours, theirs = (_facts(t)[table] for t in databases)
    frame, keys, value = ours
    reference = theirs[0]
    assert len(frame) == len(reference)
    merged = reference[[*keys, value]].merge(frame[[*keys, value]], on=keys, how="outer",
                                            suffixes=("_gcbm", "_ours"), indicator=True)
    unmatched = merged[merged["_merge"] != "both"]
    assert unmatched.empty, unmatched.head(10).to_string()
    expected, actual = merged[f"{value}_gcbm"].to_numpy(), merged[f"{value}_ours"].to_numpy()
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=0)
