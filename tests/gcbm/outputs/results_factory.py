"""Small synthetic GCBM results databases with known numbers, built row by row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from flintcloud.gcbm.outputs.results_db import ResultsTables, write_results_db

# GCBM's 30 pools (PoolDimension ids 1..30, in the reference run's order).
POOLS = [
    "AboveGroundFastSoil", "AboveGroundSlowSoil", "AboveGroundVeryFastSoil", "Atmosphere",
    "BelowGroundFastSoil", "BelowGroundSlowSoil", "BelowGroundVeryFastSoil", "BlackCarbon", "CH4",
    "CO", "CO2", "DissolvedOrganicCarbon", "HardwoodBranchSnag", "HardwoodCoarseRoots",
    "HardwoodFineRoots", "HardwoodFoliage", "HardwoodMerch", "HardwoodOther", "HardwoodStemSnag",
    "MediumSoil", "NO2", "Peat", "Products", "SoftwoodBranchSnag", "SoftwoodCoarseRoots",
    "SoftwoodFineRoots", "SoftwoodFoliage", "SoftwoodMerch", "SoftwoodOther", "SoftwoodStemSnag",
]
# GCBM's age classes: non-forest, 20-year classes to 299, then 300+.
AGE_CLASSES = [(-1, -1), *((start, start + 19) for start in range(0, 300, 20)), (300, -1)]
FOREST = "UNFCCC_FL_R_FL"
MODULES = ["CBMGrowthModule", "CBMDecayModule", "CBMDisturbanceEventModule"]


def age_class(label: str) -> int:
    """AgeClassDimension id of an age-range label such as '20-39', '300+' or 'N/A'."""
    labels = ["N/A" if s == -1 else f"{s}+" if e == -1 else f"{s}-{e}" for s, e in AGE_CLASSES]
    return labels.index(label) + 1


class ResultsBuilder:
    """Collects dimension and fact rows, then writes a results database in GCBM's schema."""

    def __init__(self, classifiers: tuple[str, ...] = ("Species", "Site")) -> None:
        self.classifiers = classifiers
        self.rows: dict[str, list[dict]] = {name: [] for name in (
            "ClassifierSetDimension", "DateDimension", "LandClassDimension",
            "LocationDimension", "DisturbanceTypeDimension", "DisturbanceDimension", "Pools",
            "Fluxes", "ErrorDimension", "LocationErrorDimension", "AgeArea")}

    def _id(self, table: str, row: dict) -> int:
        """The id of an equal existing row (dimension tables are keyed by value), or a new one."""
        for existing in self.rows[table]:
            if {k: v for k, v in existing.items() if k != "id"} == row:
                return existing["id"]
        self.rows[table].append({"id": len(self.rows[table]) + 1, **row})
        return len(self.rows[table])

    def location(self, year: int, classifier_values: tuple, area: float, age: str = "20-39",
                 land_class: str = FOREST) -> int:
        """A location (and its AgeArea row, as GCBM writes one per location)."""
        set_id = self._id("ClassifierSetDimension",
                          dict(zip(self.classifiers, classifier_values, strict=True)))
        date_id = self._id("DateDimension", {"step": year - 2009 if year else 0, "year": year,
                                             "month": 1, "day": 1, "fracOfStep": 1.0,
                                             "lengthOfStepInYears": 1.0})
        land_id = self._id("LandClassDimension", {"name": land_class})
        location = self._id("LocationDimension", {
            "classifierSetDimId": set_id, "dateDimId": date_id, "landClassDimId": land_id,
            "ageClassDimId": age_class(age), "area": area})
        self.rows["AgeArea"].append({"locationDimId": location, "ageClassDimId": age_class(age),
                                     "area": area})
        return location

    def pools(self, location: int, **values: float) -> None:
        for pool, value in values.items():
            self.rows["Pools"].append({"locationDimId": location,
                                       "poolId": POOLS.index(pool) + 1, "poolValue": value})

    def flux(self, location: int, src: str, dst: str, value: float,
             disturbance: int | None = None) -> None:
        module = MODULES[2] if disturbance else MODULES[0] if src == "Atmosphere" else MODULES[1]
        self.rows["Fluxes"].append({
            "locationDimId": location, "moduleInfoDimId": MODULES.index(module) + 1,
            "disturbanceDimId": disturbance, "poolSrcDimId": POOLS.index(src) + 1,
            "poolDstDimId": POOLS.index(dst) + 1, "fluxValue": value})

    def disturbance(self, location: int, previous_location: int, code: int, name: str,
                    area: float) -> int:
        type_id = self._id("DisturbanceTypeDimension",
                           {"disturbanceType": code, "disturbanceTypeName": name})
        return self._id("DisturbanceDimension", {
            "locationDimId": location, "disturbanceTypeDimId": type_id,
            "previousLocationDimId": previous_location, "area": area})

    def error(self, module: str, message: str, *locations: int) -> None:
        error_id = self._id("ErrorDimension", {"module": module, "error": message})
        for location in locations:
            self.rows["LocationErrorDimension"].append(
                {"id": len(self.rows["LocationErrorDimension"]) + 1, "locationDimId": location,
                 "errorDimId": error_id})

    def tables(self) -> ResultsTables:
        frames = {name: pd.DataFrame(rows) for name, rows in self.rows.items()}
        frames["ClassifierSetDimension"] = pd.DataFrame(
            self.rows["ClassifierSetDimension"], columns=["id", *self.classifiers])
        frames["PoolDimension"] = pd.DataFrame({"id": range(1, 31), "poolName": POOLS})
        frames["AgeClassDimension"] = pd.DataFrame(
            [(i, s, e) for i, (s, e) in enumerate(AGE_CLASSES, start=1)],
            columns=["id", "startAge", "endAge"])
        frames["ModuleInfoDimension"] = pd.DataFrame({"moduleName": MODULES})
        return ResultsTables(classifiers=self.classifiers, **frames)

    def write(self, path: Path) -> Path:
        return write_results_db(path, self.tables())
