"""The reporting tables of GCBM.CompileResults (gcbm-spec.md §6.3), computed with pandas group-bys.

Each function reproduces one of upstream's `sql/NN_*.sql` queries: the same joins (inner joins
drop rows whose key has no partner, NULL never matches NULL), the same GROUP BY columns (NULLs
form one group) and SQL's SUM (NULL when every term is NULL). Work is keyed by integers: a
location's reporting key is the tuple (classifiers, land class, age range, year) it is grouped
by, so the large tables are summed by (indicator id, key) and only the result gets its labels.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from flintcloud.gcbm.outputs.compiled.indicators import ChangeType, IndicatorSet
from flintcloud.gcbm.outputs.results_db import ResultsTables

PREVIOUS = "_previous"  # suffix of the pre-disturbance columns of the disturbance tables
NO_TYPE = -1  # disturbance-type index of annual-process fluxes (NULL code and name)


@dataclass(frozen=True)
class Locations:
    """Upstream's `r_location`: the locations that have a classifier set, date, land class and
    age class, with the reporting labels and the area of their whole reporting group."""

    frame: pd.DataFrame  # index location id; classifiers, unfccc_land_class, age_range, year,
    #                      area (ha); key, stand (int): one value per distinct label tuple
    labels: pd.DataFrame  # index key; classifiers, unfccc_land_class, age_range, year
    stand_labels: pd.DataFrame  # index stand; classifiers, unfccc_land_class, age_range
    classifiers: tuple[str, ...]

    def key_of(self, location_ids: pd.Series, key: str = "key") -> pd.Series:
        """Reporting key (or stand) of each location id; NaN where the location is unreported."""
        return location_ids.map(self.frame[key])


FLUX_VIEWS = ("v_flux_indicators", "v_flux_indicator_aggregates", "v_stock_change_indicators")


def compile_views(results: ResultsTables, indicators: IndicatorSet,
                  names: Collection[str] | None = None) -> dict[str, pd.DataFrame]:
    """The v_* tables (`names`, default all), as DataFrames holding (at least) the columns of
    `compiled_db.LAYOUTS`. Each is built once, and only when it or a table drawn from it is
    asked for, so two processes can share the work."""
    locations = reporting_locations(results)
    types = _disturbance_types(results)
    pools = cache(lambda: collection_pools(results, indicators))
    built: dict[str, pd.DataFrame] = {}

    def view(name: str) -> pd.DataFrame:
        if name not in built:
            built[name] = builders[name]()
        return built[name]

    builders: dict[str, Callable[[], pd.DataFrame]] = {
        "v_flux_indicators": lambda: flux_indicator_table(
            results, indicators, locations, types, pools()),
        "v_flux_indicator_aggregates": lambda: flux_aggregate_table(
            view("v_flux_indicators"), indicators, locations),
        "v_stock_change_indicators": lambda: stock_change_table(
            view("v_flux_indicator_aggregates"), indicators, locations),
        "v_pool_indicators": lambda: pool_indicator_table(
            results, indicators, locations, pools()),
        "v_age_indicators": lambda: age_table(results, locations),
        "v_error_indicators": lambda: error_table(results, locations),
        "v_disturbance_indicators": lambda: disturbance_indicator_table(results, locations, types),
        "v_total_disturbed_areas": lambda: disturbed_area_table(results, locations, types),
        "v_disturbance_fluxes": lambda: disturbance_flux_table(results, locations, types),
    }
    def density(flux_view: str) -> Callable[[], pd.DataFrame]:
        return lambda: density_table(view(flux_view), view("v_age_indicators"))

    for name in FLUX_VIEWS:
        builders[f"{name}_density"] = density(name)
    wanted = builders.keys() if names is None else names
    unknown = set(wanted) - builders.keys()
    if unknown:
        raise ValueError(f"no compiled views named {sorted(unknown)}")
    return {name: view(name) for name in builders if name in wanted}


# --- joins and sums with SQL semantics ---------------------------------------------------------

def _join(left: pd.DataFrame, right: pd.DataFrame, left_on, right_on, how="inner") -> pd.DataFrame:
    """SQL join on equality: pandas would match NaN keys with each other, SQL never does."""
    right_on = [right_on] if isinstance(right_on, str) else right_on
    right = right.dropna(subset=right_on)
    return left.merge(right, left_on=left_on, right_on=right_on, how=how)


def _sum(frame: pd.DataFrame, by: list[str], columns: list[str]) -> pd.DataFrame:
    """GROUP BY `by` (NULLs grouped together), SUM(column) (NULL if all terms are NULL)."""
    return frame.groupby(by, dropna=False, sort=True)[columns].sum(min_count=1).reset_index()


def _reported(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows whose location is reported (inner join to r_location), keys as integers."""
    frame = frame[frame["key"].notna()]
    return frame.astype({"key": np.int64})


def _with_labels(frame: pd.DataFrame, labels: pd.DataFrame, key: str = "key",
                 suffix: str = "") -> pd.DataFrame:
    """Attach the labels of `frame[key]` (columns renamed with `suffix`)."""
    named = labels.add_suffix(suffix)
    return frame.join(named, on=key)


# --- r_location --------------------------------------------------------------------------------

def age_range_labels(age_classes: pd.DataFrame) -> pd.Series:
    """'N/A' for non-forest (start -1), '300+' for the open last class, else '20-39'
    (upstream's 02_create_location_area_view CASE). Index: age class id."""
    start, end = age_classes["startAge"], age_classes["endAge"]
    text = [_age_range(s, e) for s, e in zip(start.tolist(), end.tolist(), strict=True)]
    return pd.Series(text, index=age_classes["id"], dtype=object)


def _age_range(start, end) -> str:
    def integer(value):  # SQLite prints an integer-valued age without a decimal point
        return int(value) if float(value).is_integer() else value

    if start == -1:
        return "N/A"
    return f"{integer(start)}+" if end == -1 else f"{integer(start)}-{integer(end)}"


def reporting_locations(results: ResultsTables) -> Locations:
    """r_location (02_create_location_area_view.sql), labelled and keyed."""
    classifiers = list(results.classifiers)
    sets = results.ClassifierSetDimension.rename(columns={"id": "set_id"})
    dates = results.DateDimension.rename(columns={"id": "date_id"})
    land = results.LandClassDimension.rename(columns={"id": "land_id",
                                                      "name": "unfccc_land_class"})
    ages = results.AgeClassDimension.rename(columns={"id": "age_id"})
    frame = results.LocationDimension.dropna(subset=["id"])  # a NULL id matches nothing
    frame = _join(frame, sets, "classifierSetDimId", "set_id")
    frame = _join(frame, dates, "dateDimId", "date_id")
    frame = _join(frame, land, "landClassDimId", "land_id")
    frame = _join(frame, ages, "ageClassDimId", "age_id")
    # r_stand_area is joined back on year, land class and ages with '=': NULLs drop out.
    frame = frame.dropna(subset=["year", "unfccc_land_class", "startAge", "endAge"])
    frame["age_range"] = frame["ageClassDimId"].map(age_range_labels(results.AgeClassDimension))
    group = [*classifiers, "year", "unfccc_land_class", "startAge", "endAge"]
    # A location reports the area of its whole (classifiers, year, land class, age class) group.
    frame["area"] = frame.groupby(group, dropna=False)["area"].transform("sum", min_count=1)
    frame["year"] = frame["year"].astype(np.int64)
    # key: what reporting tables group by; stand: the same without the year, for the
    # pre-disturbance columns of the disturbance tables.
    stand_columns = [*classifiers, "unfccc_land_class", "age_range"]
    frame["key"] = frame.groupby([*stand_columns, "year"], dropna=False, sort=True).ngroup()
    frame["stand"] = frame.groupby(stand_columns, dropna=False, sort=True).ngroup()
    frame = frame.set_index("id")[[*stand_columns, "year", "area", "key", "stand"]]
    return Locations(frame, _labels(frame, "key", [*stand_columns, "year"]),
                     _labels(frame, "stand", stand_columns), tuple(classifiers))


def _labels(frame: pd.DataFrame, key: str, columns: list[str]) -> pd.DataFrame:
    return frame.drop_duplicates(key).set_index(key)[columns].sort_index()


@dataclass(frozen=True)
class _DisturbanceTypes:
    labels: pd.DataFrame  # index type; disturbance_code, disturbance_type
    events: pd.DataFrame  # DisturbanceDimension indexed by id, plus type (NaN: unknown type)


def _disturbance_types(results: ResultsTables) -> _DisturbanceTypes:
    """Disturbance types indexed by (code, name), as upstream groups by dt.disturbancetype,
    dt.disturbancetypename; and the events (DisturbanceDimension) with their type index."""
    types = results.DisturbanceTypeDimension.dropna(subset=["id"])
    type_index = types.groupby(["disturbanceType", "disturbanceTypeName"], dropna=False,
                               sort=True).ngroup()
    # A type with NULL code and name groups with annual-process fluxes (NULL labels, too).
    is_unnamed = types["disturbanceType"].isna() & types["disturbanceTypeName"].isna()
    type_index = type_index.where(~is_unnamed, NO_TYPE)
    labels = (types.assign(type=type_index.to_numpy()).drop_duplicates("type")
              .set_index("type")[["disturbanceType", "disturbanceTypeName"]]
              .rename(columns={"disturbanceType": "disturbance_code",
                               "disturbanceTypeName": "disturbance_type"}).sort_index()
              .drop(index=NO_TYPE, errors="ignore"))
    events = results.DisturbanceDimension.dropna(subset=["id"])
    type_of_type_row = pd.Series(type_index.to_numpy(), index=types["id"].to_numpy())
    events = events.assign(type=events["disturbanceTypeDimId"].map(type_of_type_row))
    return _DisturbanceTypes(labels, events.set_index("id"))


# --- flux indicators and their collections -----------------------------------------------------

def collection_pools(results: ResultsTables,
                     indicators: IndicatorSet) -> dict[str, np.ndarray]:
    """For each pool collection, a boolean array indexed by `_pool_index`: is the pool in it?
    (upstream's r_pool_collection_pools: pools the database lacks are left out, and every id of
    a pool name the database repeats is in). The last element, False, stands for unknown ids."""
    pools = results.PoolDimension.dropna(subset=["id"])
    names = pools["poolName"].tolist()
    ids = pools["id"].to_numpy(np.int64)
    size = int(ids.max()) + 2 if ids.size else 1
    lookups = {}
    for collection in indicators.pool_collections:
        members = indicators.collection_pools(collection, names)
        is_member = np.zeros(size, dtype=bool)
        is_member[ids[pools["poolName"].isin(members).to_numpy()]] = True
        lookups[collection] = is_member
    return lookups


def _pool_index(pool_ids: pd.Series, lookups: dict[str, np.ndarray]) -> np.ndarray:
    """Positions of pool ids in the `collection_pools` arrays; ids no pool has (or NULL) point
    at the final False, so they join nothing, as in SQL."""
    size = len(next(iter(lookups.values()))) if lookups else 1
    ids = pool_ids.to_numpy(np.float64, na_value=np.nan)
    is_known = (ids >= 0) & (ids < size - 1)  # NaN compares False
    return np.where(is_known, np.nan_to_num(ids), size - 1).astype(np.int64)


def _sums_by_group(groups: np.ndarray, n_groups: int, values: np.ndarray,
                   is_term: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SUM(values) over the rows where is_term, per group id in [0, n_groups): (sums, whether a
    group has any term, whether it has a non-NULL term). Sums run in row order, as SQLite's do.
    One bincount per indicator: memory stays that of the input, whatever the indicators."""
    picked, terms = groups[is_term], values[is_term]
    is_value = ~np.isnan(terms)
    sums = np.bincount(picked[is_value], weights=terms[is_value], minlength=n_groups)
    has_term = np.bincount(picked, minlength=n_groups) > 0
    has_value = np.bincount(picked[is_value], minlength=n_groups) > 0
    return sums, has_term, has_value


def flux_indicator_table(results: ResultsTables, indicators: IndicatorSet, locations: Locations,
                         types: _DisturbanceTypes, pools: dict[str, np.ndarray]) -> pd.DataFrame:
    """v_flux_indicators (07_create_flux_indicator_view.sql): per flux indicator, reporting key
    and disturbance type, the sum of the fluxes it counts; only positive sums are kept."""
    fluxes = results.Fluxes
    location_key = locations.key_of(fluxes["locationDimId"])
    is_reported = location_key.notna().to_numpy()
    fluxes, key = fluxes[is_reported], location_key[is_reported].to_numpy(np.int64)
    is_disturbance = fluxes["disturbanceDimId"].notna().to_numpy()
    # LEFT JOINs to the event and its type: an event without a known type reports NULL labels.
    dist_type = fluxes["disturbanceDimId"].map(types.events["type"]).fillna(NO_TYPE) \
        .to_numpy(np.int64)
    n_codes = int(dist_type.max(initial=NO_TYPE)) + 2  # type indices run from NO_TYPE = -1
    codes, group = np.unique(key * n_codes + dist_type + 1, return_inverse=True)
    group = group.ravel()  # rows' (key, type) group; codes[g] // n_codes is its key
    src = _pool_index(fluxes["poolSrcDimId"], pools)
    dst = _pool_index(fluxes["poolDstDimId"], pools)
    values = fluxes["fluxValue"].to_numpy(np.float64, na_value=np.nan)
    category = {ChangeType.ANNUAL_PROCESS: ~is_disturbance, ChangeType.DISTURBANCE: is_disturbance,
                ChangeType.COMBINED: np.ones_like(is_disturbance)}
    parts = []
    for indicator_id, flux in enumerate(indicators.fluxes, start=1):
        is_term = pools[flux.source][src] & pools[flux.sink][dst] & category[flux.change_type]
        sums, _, _ = _sums_by_group(group, codes.size, values, is_term)
        kept = np.flatnonzero(sums > 0)  # HAVING SUM(...) > 0 (a NULL sum is not > 0)
        parts.append(pd.DataFrame({"flux_indicator_id": indicator_id, "indicator": flux.name,
                                   "key": codes[kept] // n_codes,
                                   "type": codes[kept] % n_codes - 1, "flux_tc": sums[kept]}))
    frame = pd.concat(parts, ignore_index=True)
    frame = _with_labels(frame, locations.labels)
    return frame.join(types.labels, on="type")


def _collection_members(indicators: IndicatorSet) -> pd.DataFrame:
    flux_ids = {flux.name: i for i, flux in enumerate(indicators.fluxes, start=1)}
    rows = {(collection_id, flux_ids[name])
            for collection_id, members in enumerate(indicators.flux_collections.values(), start=1)
            for name in members}  # a set: upstream's primary key makes membership unique
    return pd.DataFrame(sorted(rows), columns=["flux_indicator_collection_id",
                                               "flux_indicator_id"])


def flux_aggregate_table(flux_indicators: pd.DataFrame, indicators: IndicatorSet,
                         locations: Locations) -> pd.DataFrame:
    """v_flux_indicator_aggregates (11_...sql): flux indicators summed per flux collection and
    reporting key, over disturbance types."""
    frame = _join(flux_indicators[["flux_indicator_id", "key", "flux_tc"]],
                  _collection_members(indicators), "flux_indicator_id", "flux_indicator_id")
    frame = _sum(frame, ["flux_indicator_collection_id", "key"], ["flux_tc"])
    names = pd.Series(dict(enumerate(indicators.flux_collections, start=1)))
    frame["indicator"] = frame["flux_indicator_collection_id"].map(names)
    return _with_labels(frame, locations.labels)


def stock_change_table(aggregates: pd.DataFrame, indicators: IndicatorSet,
                       locations: Locations) -> pd.DataFrame:
    """v_stock_change_indicators (10_ and 12_...sql): per stock change and reporting key, the
    added flux collections minus the subtracted ones."""
    collection_ids = {name: i for i, name in enumerate(indicators.flux_collections, start=1)}
    term_set = {(change_id, collection_ids[name], sign)  # a set: upstream's UNION drops repeats
                for change_id, change in enumerate(indicators.stock_changes, start=1)
                for sign, names in ((1, change.add), (-1, change.subtract)) for name in names}
    terms = pd.DataFrame(sorted(term_set), columns=["change_id", "flux_indicator_collection_id",
                                                    "sign"])
    frame = _join(aggregates[["flux_indicator_collection_id", "key", "flux_tc"]], terms,
                  "flux_indicator_collection_id", "flux_indicator_collection_id")
    frame["flux_tc"] = frame["flux_tc"] * frame["sign"]
    frame = _sum(frame, ["change_id", "key"], ["flux_tc"])
    names = pd.Series({i: change.name for i, change in enumerate(indicators.stock_changes, 1)})
    frame["indicator"] = frame["change_id"].map(names)
    return _with_labels(frame, locations.labels)


# --- pools, ages, errors -----------------------------------------------------------------------

def _after_spinup(locations: Locations, location_ids: pd.Series) -> pd.Series:
    """Reporting keys, NaN for unreported locations and year 0 (the spinup state): upstream's
    pool and age indicators and disturbance tables say WHERE year > 0."""
    key = locations.key_of(location_ids)
    year = location_ids.map(locations.frame["year"])
    return key.where(year > 0)


def pool_indicator_table(results: ResultsTables, indicators: IndicatorSet, locations: Locations,
                         pools: dict[str, np.ndarray]) -> pd.DataFrame:
    """v_pool_indicators (13_ and 14_...sql): per pool indicator and reporting key, the sum of
    its collection's pools (tC), years after spinup only. A key has a row when it has a Pools
    row for any pool of the collection."""
    location_key = _after_spinup(locations, results.Pools["locationDimId"])
    is_reported = location_key.notna().to_numpy()
    rows, key = results.Pools[is_reported], location_key[is_reported].to_numpy(np.int64)
    values = rows["poolValue"].to_numpy(np.float64, na_value=np.nan)
    pool = _pool_index(rows["poolId"], pools)
    parts = []
    for indicator_id, (name, collection) in enumerate(indicators.pool_indicators.items(), 1):
        is_term = pools[collection][pool]
        sums, has_term, has_value = _sums_by_group(key, len(locations.labels), values, is_term)
        kept = np.flatnonzero(has_term)
        parts.append(pd.DataFrame({"indicator_id": indicator_id, "indicator": name, "key": kept,
                                   "pool_tc": np.where(has_value[kept], sums[kept], np.nan)}))
    return _with_labels(pd.concat(parts, ignore_index=True), locations.labels)


def age_table(results: ResultsTables, locations: Locations) -> pd.DataFrame:
    """v_age_indicators (16_...sql): AgeArea area per reporting key, years after spinup."""
    age_area = _join(results.AgeArea, results.AgeClassDimension[["id"]], "ageClassDimId", "id")
    frame = pd.DataFrame({"key": _after_spinup(locations, age_area["locationDimId"]),
                          "area": age_area["area"]})
    frame = _sum(_reported(frame), ["key"], ["area"])
    return _with_labels(frame, locations.labels)


def error_table(results: ResultsTables, locations: Locations) -> pd.DataFrame:
    """v_error_indicators (17_...sql): per year, classifier set, module and error, the reported
    area of the locations with that error. LEFT JOINs: an error with no (reported) location
    still has a row, with NULL year, classifiers and area."""
    errors = results.ErrorDimension.rename(columns={"id": "error_id"})
    frame = _join(errors, results.LocationErrorDimension, "error_id", "errorDimId", how="left")
    located = locations.frame.drop(columns=["key"]).rename_axis("location_id").reset_index()
    frame = _join(frame, located, "locationDimId", "location_id", how="left")
    by = ["year", *locations.classifiers, "module", "error"]
    return _sum(frame[[*by, "area"]], by, ["area"])


# --- disturbances ------------------------------------------------------------------------------

def _disturbed(frame: pd.DataFrame, locations: Locations, types: _DisturbanceTypes,
               event: str, current: str) -> pd.DataFrame:
    """Join each row's event (column `event`), its type, the current location (column `current`)
    and the event's previous location; inner joins, as upstream's disturbance queries."""
    events = types.events[["type", "previousLocationDimId", "area"]].rename(
        columns={"area": "dist_area"}).rename_axis("event_id").reset_index()
    frame = _join(frame, events, event, "event_id")
    frame = frame.assign(key=locations.key_of(frame[current]),
                         previous=locations.key_of(frame["previousLocationDimId"], "stand"))
    frame = frame.dropna(subset=["key", "previous", "type"])
    return frame.astype({"key": np.int64, "previous": np.int64, "type": np.int64})


def _label_disturbed(frame: pd.DataFrame, locations: Locations,
                     types: _DisturbanceTypes) -> pd.DataFrame:
    frame = _with_labels(frame, locations.labels)
    frame = _with_labels(frame, locations.stand_labels, key="previous", suffix=PREVIOUS)
    frame = frame.rename(columns={"age_range": "post_dist_age_range",
                                  f"age_range{PREVIOUS}": "pre_dist_age_range"})
    return frame.join(types.labels, on="type")


def disturbed_area_table(results: ResultsTables, locations: Locations,
                         types: _DisturbanceTypes) -> pd.DataFrame:
    """v_total_disturbed_areas (18_...sql): DisturbanceDimension area per current and previous
    classifiers and land class, disturbance type and year (every year, events without fluxes
    too)."""
    events = results.DisturbanceDimension[["id", "locationDimId"]]
    frame = _label_disturbed(_disturbed(events, locations, types, "id", "locationDimId"),
                             locations, types)
    site = [*locations.classifiers, "unfccc_land_class"]
    by = [*site, *(f"{c}{PREVIOUS}" for c in site), "disturbance_code", "disturbance_type",
          "year"]
    return _sum(frame, by, ["dist_area"])


def disturbance_indicator_table(results: ResultsTables, locations: Locations,
                                types: _DisturbanceTypes) -> pd.DataFrame:
    """v_disturbance_indicators (15_...sql): disturbed area and carbon per current and previous
    stand labels, type and year (after spinup). Like upstream, an event's area is counted once
    per (location, module, event) with fluxes, and events without fluxes are absent."""
    fluxes = results.Fluxes[results.Fluxes["disturbanceDimId"].notna()]
    frame = _sum(fluxes, ["locationDimId", "moduleInfoDimId", "disturbanceDimId"], ["fluxValue"])
    frame = _disturbed(frame, locations, types, "disturbanceDimId", "locationDimId")
    frame = frame[frame["locationDimId"].map(locations.frame["year"]) > 0]
    frame = _sum(frame.rename(columns={"fluxValue": "dist_carbon"}),
                 ["key", "previous", "type"], ["dist_area", "dist_carbon"])
    # SQLite's x / 0 is NULL.
    area = frame["dist_area"].where(frame["dist_area"] != 0)
    frame["dist_carbon_per_ha"] = frame["dist_carbon"] / area
    return _label_disturbed(frame, locations, types)


def disturbance_flux_table(results: ResultsTables, locations: Locations,
                           types: _DisturbanceTypes) -> pd.DataFrame:
    """v_disturbance_fluxes (20_...sql): disturbance fluxes per pool pair (by pool name),
    current and previous stand labels, type and year (after spinup)."""
    fluxes = results.Fluxes[results.Fluxes["disturbanceDimId"].notna()]
    fluxes = fluxes[fluxes["locationDimId"].map(locations.frame["year"]) > 0]
    pools = results.PoolDimension.dropna(subset=["id"]).set_index("id")["poolName"]
    frame = _disturbed(fluxes, locations, types, "disturbanceDimId", "locationDimId")
    frame = frame.assign(from_pool=frame["poolSrcDimId"].map(pools),
                         to_pool=frame["poolDstDimId"].map(pools))
    frame = frame.dropna(subset=["from_pool", "to_pool"])  # inner joins to PoolDimension
    frame = _sum(frame.rename(columns={"fluxValue": "flux_tc"}),
                 ["from_pool", "to_pool", "key", "previous", "type"], ["flux_tc"])
    return _label_disturbed(frame, locations, types)


# --- densities ---------------------------------------------------------------------------------

def density_table(indicator_table: pd.DataFrame, ages: pd.DataFrame) -> pd.DataFrame:
    """`<table>_density` (19_create_density_views.sql): landscape totals per indicator and year,
    and per hectare of the year's total area in v_age_indicators. A year with area but no
    indicator rows gets one row with NULL indicator and zeros."""
    area = _sum(ages, ["year"], ["area"])
    totals = _sum(indicator_table, ["indicator", "year"], ["flux_tc"])
    frame = area.merge(totals, on="year", how="left")
    per_ha = frame["flux_tc"] / frame["area"].where(frame["area"] != 0)
    frame = frame.assign(flux_tc=frame["flux_tc"].fillna(0.0), flux_tc_per_ha=per_ha.fillna(0.0))
    # ORDER BY indicator, year: SQLite sorts NULL first.
    return frame.sort_values(["indicator", "year"], na_position="first", kind="stable")
