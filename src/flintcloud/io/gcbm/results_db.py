"""GCBM's results database: the star schema of CBMAggregatorSQLiteWriter (gcbm-spec §6.2).

Dimension ids are assigned here, from the value-keyed tables of GcbmResults, in sorted key
order; tools that read GCBM's output (GCBM.CompileResults, our compiler) join on them.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

from flintcloud.models.gcbm.pools import POOL_NAMES
from flintcloud.models.gcbm.results import GcbmResults

SCHEMA = """
CREATE TABLE ClassifierSetDimension (id UNSIGNED BIG INT PRIMARY KEY{classifier_columns});
CREATE TABLE DateDimension (id UNSIGNED BIG INT PRIMARY KEY, step INTEGER, year INTEGER,
    month INTEGER, day INTEGER, fracOfStep FLOAT, lengthOfStepInYears FLOAT);
CREATE TABLE PoolDimension (id UNSIGNED BIG INT PRIMARY KEY, poolName VARCHAR(255));
CREATE TABLE LandClassDimension (id UNSIGNED BIG INT PRIMARY KEY, name VARCHAR(255));
CREATE TABLE ModuleInfoDimension (id UNSIGNED BIG INT PRIMARY KEY, libraryType INTEGER,
    libraryInfoId INTEGER, moduleType INTEGER, moduleId INTEGER, moduleName VARCHAR(255));
CREATE TABLE AgeClassDimension (id UNSIGNED INT PRIMARY KEY, startAge UNSIGNED INT,
    endAge UNSIGNED INT);
CREATE TABLE LocationDimension (id UNSIGNED BIG INT PRIMARY KEY,
    classifierSetDimId UNSIGNED BIG INT, dateDimId UNSIGNED BIG INT,
    landClassDimId UNSIGNED BIG INT, ageClassDimId UNSIGNED INT, area FLOAT,
    FOREIGN KEY(classifierSetDimId) REFERENCES ClassifierSetDimension(id),
    FOREIGN KEY(dateDimId) REFERENCES DateDimension(id),
    FOREIGN KEY(landClassDimId) REFERENCES LandClassDimension(id),
    FOREIGN KEY(ageClassDimId) REFERENCES AgeClassDimension(id));
CREATE TABLE DisturbanceTypeDimension (id UNSIGNED BIG INT PRIMARY KEY, disturbanceType INTEGER,
    disturbanceTypeName VARCHAR(255));
CREATE TABLE DisturbanceDimension (id UNSIGNED BIG INT PRIMARY KEY,
    locationDimId UNSIGNED BIG INT, disturbanceTypeDimId UNSIGNED BIG INT,
    previousLocationDimId UNSIGNED INT, area FLOAT,
    FOREIGN KEY(locationDimId) REFERENCES LocationDimension(id),
    FOREIGN KEY(disturbanceTypeDimId) REFERENCES DisturbanceTypeDimension(id),
    FOREIGN KEY(previousLocationDimId) REFERENCES LocationDimension(id));
CREATE TABLE Pools (id UNSIGNED BIG INT PRIMARY KEY, locationDimId UNSIGNED BIG INT,
    poolId UNSIGNED BIG INT, poolValue FLOAT,
    FOREIGN KEY(locationDimId) REFERENCES LocationDimension(id),
    FOREIGN KEY(poolId) REFERENCES PoolDimension(id));
CREATE TABLE Fluxes (id UNSIGNED BIG INT PRIMARY KEY, locationDimId UNSIGNED BIG INT,
    moduleInfoDimId UNSIGNED BIG INT, disturbanceDimId UNSIGNED BIG INT,
    poolSrcDimId UNSIGNED BIG INT, poolDstDimId UNSIGNED BIG INT, fluxValue FLOAT,
    FOREIGN KEY(locationDimId) REFERENCES LocationDimension(id),
    FOREIGN KEY(moduleInfoDimId) REFERENCES ModuleInfoDimension(id),
    FOREIGN KEY(disturbanceDimId) REFERENCES DisturbanceDimension(id),
    FOREIGN KEY(poolSrcDimId) REFERENCES PoolDimension(id),
    FOREIGN KEY(poolDstDimId) REFERENCES PoolDimension(id));
CREATE TABLE ErrorDimension (id UNSIGNED BIG INT PRIMARY KEY, module VARCHAR, error VARCHAR);
CREATE TABLE LocationErrorDimension (id UNSIGNED BIG INT, locationDimId UNSIGNED BIG INT,
    errorDimId UNSIGNED BIG INT, FOREIGN KEY(locationDimId) REFERENCES LocationDimension(id),
    FOREIGN KEY(errorDimId) REFERENCES ErrorDimension(id));
CREATE TABLE AgeArea (id UNSIGNED BIG INT PRIMARY KEY, locationDimId UNSIGNED BIG INT,
    ageClassDimId UNSIGNED INT, area FLOAT,
    FOREIGN KEY(locationDimId) REFERENCES LocationDimension(id),
    FOREIGN KEY(ageClassDimId) REFERENCES AgeClassDimension(id));
"""

# FLINT module metadata as moja.cli records it for GCBM's modules: library type 3 (external),
# load order 5 of moja.modules.cbm; module type Model 0, DisturbanceEvent 1, Other 5.
LIBRARY_TYPE_EXTERNAL = 3
CBM_LIBRARY_LOAD_ORDER = 5
MODULE_TYPES = {"CBMGrowthModule": 0, "CBMDisturbanceEventModule": 1, "CBMDecayModule": 5}


def column_name(classifier: str) -> str:
    """GCBM's classifier column name: '.' and ' ' become '_'."""
    return classifier.replace(".", "_").replace(" ", "_")


def _ids(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Distinct rows of `columns`, sorted, with ids from 1."""
    distinct = frame[columns].drop_duplicates().sort_values(columns, na_position="first")
    distinct = distinct.reset_index(drop=True)
    distinct.insert(0, "id", np.arange(1, len(distinct) + 1, dtype=np.int64))
    return distinct


def write_results_db(results: GcbmResults, path: str | Path, *, module_ids: dict[str, int],
                     disturbance_codes: dict[str, int]) -> Path:
    """Write `results` as GCBM's gcbm_output.db (atomically).

    `module_ids`: each flux-producing module's FLINT module id (its creation index among the
    project's moja.modules.cbm modules); `disturbance_codes`: disturbance type name -> code.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(temporary)) as db:
            _write(db, results, module_ids, disturbance_codes)
            db.commit()
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def _write(db: sqlite3.Connection, results: GcbmResults, module_ids, disturbance_codes) -> None:
    names = sorted(results.classifier_names)  # GCBM iterates the classifier struct by name
    columns = [column_name(name) for name in names]
    db.executescript(SCHEMA.format(classifier_columns="".join(
        f', "{column}" VARCHAR' for column in columns)))
    locations = results.locations
    classifier_sets = _ids(locations, names)
    dates = _ids(locations, ["step", "year"])
    land_classes = _ids(locations, ["land_class"])
    age_classes = pd.DataFrame(results.age_class_bounds, columns=["startAge", "endAge"])
    age_classes.insert(0, "id", np.arange(1, len(age_classes) + 1))

    keyed = _location_ids(locations, classifier_sets, dates, land_classes, names)
    insert = _inserter(db)
    insert("ClassifierSetDimension", ["id", *columns], classifier_sets[["id", *names]])
    is_spinup = dates["step"] == 0
    insert("DateDimension", ["id", "step", "year", "month", "day", "fracOfStep",
                             "lengthOfStepInYears"],
           pd.DataFrame({"id": dates["id"], "step": dates["step"], "year": dates["year"],
                         "month": np.where(is_spinup, 0, 1), "day": np.where(is_spinup, 0, 1),
                         "fracOfStep": np.where(is_spinup, 0.0, 1.0), "length": 1.0}))
    insert("PoolDimension", ["id", "poolName"],
           pd.DataFrame({"id": np.arange(1, len(POOL_NAMES) + 1), "name": POOL_NAMES}))
    insert("LandClassDimension", ["id", "name"], land_classes)
    insert("AgeClassDimension", ["id", "startAge", "endAge"], age_classes)
    insert("LocationDimension", ["id", "classifierSetDimId", "dateDimId", "landClassDimId",
                                 "ageClassDimId", "area"],
           keyed[["location_id", "cset_id", "date_id", "land_id", "age_id", "area_ha"]])
    insert("AgeArea", ["id", "locationDimId", "ageClassDimId", "area"],
           keyed[["location_id", "location_id", "age_id", "area_ha"]])
    location_keys = ["step", "year", *names, "age_class", "land_class"]
    pool_index = {name: index + 1 for index, name in enumerate(POOL_NAMES)}
    pools = results.pools.merge(keyed[[*location_keys, "location_id"]], on=location_keys)
    pools = pools.sort_values(["location_id", "pool"], key=_pool_order(pool_index))
    insert("Pools", ["id", "locationDimId", "poolId", "poolValue"],
           pd.DataFrame({"id": np.arange(1, len(pools) + 1), "location": pools["location_id"],
                         "pool": pools["pool"].map(pool_index), "value": pools["value_tc"]}))
    disturbance_ids = _write_disturbances(insert, results, keyed, location_keys, names,
                                          disturbance_codes)
    _write_fluxes(insert, results, keyed, location_keys, names, pool_index, module_ids,
                  disturbance_ids)


def _pool_order(pool_index):
    def key(column: pd.Series) -> pd.Series:
        return column.map(pool_index) if column.name == "pool" else column
    return key


def _inserter(db: sqlite3.Connection):
    def insert(table: str, columns: list[str], frame: pd.DataFrame) -> None:
        quoted = ", ".join(f'"{column}"' for column in columns)
        marks = ", ".join("?" for _ in columns)
        rows = [tuple(_plain(value) for value in row) for row in frame.itertuples(index=False)]
        db.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", rows)
    return insert


def _plain(value):
    """NumPy scalars as the Python values sqlite3 stores natively."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _location_ids(locations, classifier_sets, dates, land_classes, names) -> pd.DataFrame:
    keyed = locations.merge(classifier_sets.rename(columns={"id": "cset_id"}), on=names)
    keyed = keyed.merge(dates.rename(columns={"id": "date_id"}), on=["step", "year"])
    keyed = keyed.merge(land_classes.rename(columns={"id": "land_id"}), on="land_class")
    keyed["age_id"] = keyed["age_class"].astype(np.int64) + 1
    keyed = keyed.sort_values(["step", "cset_id", "age_id", "land_id"]).reset_index(drop=True)
    keyed["location_id"] = np.arange(1, len(keyed) + 1, dtype=np.int64)
    return keyed


def _previous_ids(frame, keyed, location_keys, names) -> pd.Series:
    """The id of each row's previous location (the stand's location one step earlier)."""
    previous = {f"prev_{c}": c for c in (*names, "age_class", "land_class")}
    lookup = keyed[[*location_keys, "location_id"]].rename(
        columns={"location_id": "previous_id", **{v: k for k, v in previous.items()}})
    lookup["step"] = lookup["step"] + 1  # the location one step before
    frame = frame.assign(prev_age_class=frame["prev_age_class"].astype(np.int64))
    merged = frame.merge(lookup.drop(columns="year"), on=["step", *previous], how="left")
    return merged["previous_id"]


def _write_disturbances(insert, results, keyed, location_keys, names, codes) -> pd.DataFrame:
    disturbances = results.disturbances
    types = sorted(disturbances["disturbance_type"].unique())
    type_ids = {name: index + 1 for index, name in enumerate(types)}
    insert("DisturbanceTypeDimension", ["id", "disturbanceType", "disturbanceTypeName"],
           pd.DataFrame({"id": [type_ids[t] for t in types], "code": [codes[t] for t in types],
                         "name": types}))
    frame = disturbances.merge(keyed[[*location_keys, "location_id"]], on=location_keys)
    frame["previous_id"] = _previous_ids(frame, keyed, location_keys, names).to_numpy()
    frame["type_id"] = frame["disturbance_type"].map(type_ids)
    frame = frame.sort_values(["location_id", "type_id", "previous_id"]).reset_index(drop=True)
    frame["disturbance_id"] = np.arange(1, len(frame) + 1, dtype=np.int64)
    insert("DisturbanceDimension", ["id", "locationDimId", "disturbanceTypeDimId",
                                    "previousLocationDimId", "area"],
           frame[["disturbance_id", "location_id", "type_id", "previous_id", "area_ha"]])
    return frame[["location_id", "disturbance_type", "previous_id", "disturbance_id"]]


def _write_fluxes(insert, results, keyed, location_keys, names, pool_index, module_ids,
                  disturbance_ids) -> None:
    fluxes = results.fluxes.merge(keyed[[*location_keys, "location_id"]], on=location_keys)
    modules = sorted(fluxes["module"].unique(), key=lambda name: module_ids.get(name, 0))
    module_dim = {name: index + 1 for index, name in enumerate(modules)}
    insert("ModuleInfoDimension", ["id", "libraryType", "libraryInfoId", "moduleType",
                                   "moduleId", "moduleName"],
           pd.DataFrame({"id": [module_dim[m] for m in modules],
                         "type": LIBRARY_TYPE_EXTERNAL, "library": CBM_LIBRARY_LOAD_ORDER,
                         "module_type": [MODULE_TYPES.get(m, 5) for m in modules],
                         "module_id": [module_ids.get(m, -1) for m in modules],
                         "name": modules}))
    disturbed = fluxes["disturbance_type"] != ""
    annual = fluxes[~disturbed].assign(disturbance_id=pd.NA)
    linked = fluxes[disturbed].copy()
    linked["previous_id"] = _previous_ids(linked, keyed, location_keys, names).to_numpy()
    linked = linked.merge(disturbance_ids, how="left",
                          on=["location_id", "disturbance_type", "previous_id"])
    fluxes = pd.concat([annual, linked], ignore_index=True)
    fluxes = fluxes.sort_values(["location_id", "module", "disturbance_id", "source_pool",
                                 "sink_pool"], na_position="first").reset_index(drop=True)
    insert("Fluxes", ["id", "locationDimId", "moduleInfoDimId", "disturbanceDimId",
                      "poolSrcDimId", "poolDstDimId", "fluxValue"],
           pd.DataFrame({"id": np.arange(1, len(fluxes) + 1),
                         "location": fluxes["location_id"],
                         "module": fluxes["module"].map(module_dim),
                         "disturbance": fluxes["disturbance_id"].astype(object).where(
                             fluxes["disturbance_id"].notna(), None),
                         "source": fluxes["source_pool"].map(pool_index),
                         "sink": fluxes["sink_pool"].map(pool_index),
                         "value": fluxes["value_tc"]}))
