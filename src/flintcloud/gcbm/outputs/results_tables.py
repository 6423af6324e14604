"""GcbmResults as the tables of GCBM's results database (CBMAggregatorSQLiteWriter, gcbm-spec §6.2).

Dimension ids are assigned here, from the value-keyed tables of GcbmResults, in sorted key
order; `results_db.write_results_db` writes them, and the compiler reads them in memory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flintcloud.gcbm.outputs.results_db import ResultsTables
from flintcloud.gcbm.science.pools import POOL_NAMES
from flintcloud.gcbm.science.results import GcbmResults

# FLINT module metadata as moja.cli records it for GCBM's modules: library type 3 (external),
# load order 5 of moja.modules.cbm; module type Model 0, DisturbanceEvent 1, Other 5.
LIBRARY_TYPE_EXTERNAL = 3
CBM_LIBRARY_LOAD_ORDER = 5
MODULE_TYPES = {"CBMGrowthModule": 0, "CBMDisturbanceEventModule": 1, "CBMDecayModule": 5}
MODULE_TYPE_OTHER = 5


def column_name(classifier: str) -> str:
    """GCBM's classifier column name: '.' and ' ' become '_'."""
    return classifier.replace(".", "_").replace(" ", "_")


def _ids(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Distinct rows of `columns`, sorted, with ids from 1."""
    distinct = frame[columns].drop_duplicates().sort_values(columns, na_position="first")
    distinct = distinct.reset_index(drop=True)
    distinct.insert(0, "id", np.arange(1, len(distinct) + 1, dtype=np.int64))
    return distinct


def results_tables(results: GcbmResults, *, module_ids: dict[str, int],
                   disturbance_codes: dict[str, int]) -> ResultsTables:
    """The star-schema tables of `results`.

    `module_ids`: each flux-producing module's FLINT module id (its creation index among the
    project's moja.modules.cbm modules); `disturbance_codes`: disturbance type name -> code.
    """
    names = sorted(results.classifier_names)  # GCBM iterates the classifier struct by name
    columns = [column_name(name) for name in names]
    locations = results.locations
    classifier_sets = _ids(locations, names)
    dates = _ids(locations, ["step", "year"])
    land_classes = _ids(locations, ["land_class"])
    keyed = _location_ids(locations, classifier_sets, dates, land_classes, names)
    location_keys = ["step", "year", *names, "age_class", "land_class"]
    pool_index = {name: index + 1 for index, name in enumerate(POOL_NAMES)}
    is_spinup = dates["step"] == 0
    pools = results.pools.merge(keyed[[*location_keys, "location_id"]], on=location_keys)
    pools = pools.assign(pool_id=pools["pool"].map(pool_index)).sort_values(
        ["location_id", "pool_id"])
    disturbance_types, disturbances = _disturbances(results, keyed, location_keys, names,
                                                    disturbance_codes)
    modules, fluxes = _fluxes(results, keyed, location_keys, names, pool_index, module_ids,
                              disturbances)
    return ResultsTables(
        classifiers=tuple(columns),
        ClassifierSetDimension=classifier_sets.rename(columns=dict(zip(names, columns,
                                                                       strict=True))),
        DateDimension=pd.DataFrame({
            "id": dates["id"], "step": dates["step"], "year": dates["year"],
            "month": np.where(is_spinup, 0, 1), "day": np.where(is_spinup, 0, 1),
            "fracOfStep": np.where(is_spinup, 0.0, 1.0), "lengthOfStepInYears": 1.0}),
        PoolDimension=pd.DataFrame({"id": np.arange(1, len(POOL_NAMES) + 1),
                                    "poolName": list(POOL_NAMES)}),
        LandClassDimension=land_classes.rename(columns={"land_class": "name"}),
        AgeClassDimension=pd.DataFrame({
            "id": np.arange(1, len(results.age_class_bounds) + 1),
            "startAge": [start for start, _ in results.age_class_bounds],
            "endAge": [end for _, end in results.age_class_bounds]}),
        LocationDimension=keyed.rename(columns={
            "location_id": "id", "cset_id": "classifierSetDimId", "date_id": "dateDimId",
            "land_id": "landClassDimId", "age_id": "ageClassDimId", "area_ha": "area"})[
            ["id", "classifierSetDimId", "dateDimId", "landClassDimId", "ageClassDimId", "area"]],
        DisturbanceTypeDimension=disturbance_types,
        DisturbanceDimension=disturbances.rename(columns={
            "disturbance_id": "id", "location_id": "locationDimId", "type_id":
            "disturbanceTypeDimId", "previous_id": "previousLocationDimId", "area_ha": "area"})[
            ["id", "locationDimId", "disturbanceTypeDimId", "previousLocationDimId", "area"]],
        Pools=pd.DataFrame({"id": np.arange(1, len(pools) + 1),
                            "locationDimId": pools["location_id"].to_numpy(),
                            "poolId": pools["pool_id"].to_numpy(),
                            "poolValue": pools["value_tc"].to_numpy()}),
        Fluxes=fluxes,
        ErrorDimension=pd.DataFrame(columns=["id", "module", "error"]),
        LocationErrorDimension=pd.DataFrame(columns=["id", "locationDimId", "errorDimId"]),
        AgeArea=pd.DataFrame({"id": keyed["location_id"], "locationDimId": keyed["location_id"],
                              "ageClassDimId": keyed["age_id"], "area": keyed["area_ha"]}),
        ModuleInfoDimension=modules,
        source="GCBM run")


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


def _disturbances(results, keyed, location_keys, names, codes):
    disturbances = results.disturbances
    types = sorted(disturbances["disturbance_type"].unique())
    type_ids = {name: index + 1 for index, name in enumerate(types)}
    dimension = pd.DataFrame({"id": [type_ids[t] for t in types],
                              "disturbanceType": [codes[t] for t in types],
                              "disturbanceTypeName": types})
    frame = disturbances.merge(keyed[[*location_keys, "location_id"]], on=location_keys)
    frame["previous_id"] = _previous_ids(frame, keyed, location_keys, names).to_numpy()
    frame["type_id"] = frame["disturbance_type"].map(type_ids)
    frame = frame.sort_values(["location_id", "type_id", "previous_id"]).reset_index(drop=True)
    frame["disturbance_id"] = np.arange(1, len(frame) + 1, dtype=np.int64)
    return dimension, frame


def _fluxes(results, keyed, location_keys, names, pool_index, module_ids, disturbances):
    fluxes = results.fluxes.merge(keyed[[*location_keys, "location_id"]], on=location_keys)
    modules = sorted(fluxes["module"].unique(), key=lambda name: module_ids.get(name, 0))
    module_dim = {name: index + 1 for index, name in enumerate(modules)}
    dimension = pd.DataFrame({
        "id": [module_dim[m] for m in modules], "libraryType": LIBRARY_TYPE_EXTERNAL,
        "libraryInfoId": CBM_LIBRARY_LOAD_ORDER,
        "moduleType": [MODULE_TYPES.get(m, MODULE_TYPE_OTHER) for m in modules],
        "moduleId": [module_ids.get(m, -1) for m in modules], "moduleName": modules})
    disturbed = fluxes["disturbance_type"] != ""
    annual = fluxes[~disturbed].assign(disturbance_id=pd.NA)
    linked = fluxes[disturbed].copy()
    linked["previous_id"] = _previous_ids(linked, keyed, location_keys, names).to_numpy()
    linked = linked.merge(disturbances[["location_id", "disturbance_type", "previous_id",
                                        "disturbance_id"]], how="left",
                          on=["location_id", "disturbance_type", "previous_id"])
    fluxes = pd.concat([annual, linked], ignore_index=True)
    fluxes = fluxes.sort_values(["location_id", "module", "disturbance_id", "source_pool",
                                 "sink_pool"], na_position="first").reset_index(drop=True)
    return dimension, pd.DataFrame({
        "id": np.arange(1, len(fluxes) + 1), "locationDimId": fluxes["location_id"].to_numpy(),
        "moduleInfoDimId": fluxes["module"].map(module_dim).to_numpy(),
        "disturbanceDimId": fluxes["disturbance_id"].astype("Int64").to_numpy(),
        "poolSrcDimId": fluxes["source_pool"].map(pool_index).to_numpy(),
        "poolDstDimId": fluxes["sink_pool"].map(pool_index).to_numpy(),
        "fluxValue": fluxes["value_tc"].to_numpy()})
