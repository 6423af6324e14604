"""Aggregated GCBM results in tidy form (docs/design/0001-gcbm-results.md).

A *location* is (step, classifier values, age class, UNFCCC land class), as in GCBM's
LocationDimension. Per block, pixel trajectories are summed by location (tC = tC/ha × area);
blocks merge by summing rows with equal keys, so the result does not depend on block order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from flintcloud.models.gcbm.parameters import GcbmParameters
from flintcloud.models.gcbm.pools import POOL_NAMES
from flintcloud.models.gcbm.simulation import Trajectory

ANNUAL_PROCESS = ""  # disturbance_type of annual-process fluxes


@dataclass(frozen=True)
class GcbmResults:
    """Landscape results. Every table has the location columns `step, year, <classifiers>,
    age_class, land_class`, then its own columns; rows are sorted by all key columns."""

    classifier_names: tuple[str, ...]
    age_class_bounds: tuple[tuple[int, int], ...]  # (start, end) per age class id
    locations: pd.DataFrame  # + area_ha
    pools: pd.DataFrame  # + pool, value_tc
    fluxes: pd.DataFrame  # + module, disturbance_type, source_pool, sink_pool, value_tc
    disturbances: pd.DataFrame  # + disturbance_type, prev_<classifier>..., prev_age_class, prev_land_class, area_ha

    @property
    def location_columns(self) -> list[str]:
        return ["step", "year", *self.classifier_names, "age_class", "land_class"]

    def pool_totals_by_year(self) -> pd.DataFrame:
        """year, step, pool, total_tC, area_ha, tC_per_ha: the reference CSV's layout."""
        area = self.locations.groupby(["year", "step"], sort=True)["area_ha"].sum()
        totals = self.pools.groupby(["year", "step", "pool"], sort=True)["value_tc"].sum()
        out = totals.rename("total_tC").reset_index()
        out["area_ha"] = area.reindex(pd.MultiIndex.from_frame(out[["year", "step"]])).to_numpy()
        out["tC_per_ha"] = out["total_tC"] / out["area_ha"]
        return out

    def fluxes_by_year(self) -> pd.DataFrame:
        """year, module, disturbance_type, source_pool, sink_pool, flux_tC (steps >= 1)."""
        keys = ["year", "module", "disturbance_type", "source_pool", "sink_pool"]
        out = self.fluxes.groupby(keys, sort=True)["value_tc"].sum().rename("flux_tC").reset_index()
        return out[out["flux_tC"] != 0].reset_index(drop=True)


def land_class_labels(params: GcbmParameters) -> list[str]:
    """UNFCCC land class label of each (historic, current) index pair, flattened."""
    codes = params.land_classes.codes
    return [f"UNFCCC_{h}_R_{c}" for h in codes for c in codes]


def aggregate(trajectory: Trajectory, area_ha: np.ndarray, params: GcbmParameters,
              classifier_sets: list[tuple[str, ...]], classifier_names: list[str],
              start_year: int) -> dict[str, pd.DataFrame]:
    """One block's contribution to GcbmResults tables (not yet merged or sorted)."""
    n_steps = trajectory.age.shape[0] - 1
    n_classes = params.age_classes.n_classes + 1
    n_land = len(params.land_classes.codes)
    labels = land_class_labels(params)
    dist_names = params.disturbances.type_names
    location_frames, pool_frames, flux_frames, dist_frames = [], [], [], []
    previous = None
    for step in range(n_steps + 1):
        age_class = params.age_classes.classify(trajectory.age[step]).astype(np.int64)
        land = trajectory.historic_land_class[step] * n_land + trajectory.current_land_class[step]
        key = (trajectory.classifier_set[step] * n_classes + age_class) * n_land * n_land + land
        keys, inverse = np.unique(key, return_inverse=True)
        inverse = inverse.ravel()
        year = 0 if step == 0 else start_year + step - 1
        locations = _location_frame(keys, step, year, n_classes, n_land, classifier_sets,
                                    classifier_names, labels)
        locations["area_ha"] = np.bincount(inverse, weights=area_ha, minlength=keys.size)
        location_frames.append(locations)
        carbon = trajectory.pools[step] * area_ha  # (P, n) tC
        totals = np.stack([np.bincount(inverse, weights=row, minlength=keys.size) for row in carbon])
        pools = locations.loc[locations.index.repeat(len(POOL_NAMES))].drop(columns="area_ha")
        pools["pool"] = np.tile(POOL_NAMES, keys.size)
        pools["value_tc"] = totals.T.ravel()
        pool_frames.append(pools)
        if step >= 1:
            fluxes = trajectory.fluxes[step - 1]
            for k, (module, dist, source, sink) in enumerate(trajectory.flux_keys):
                values = fluxes[k] if k < fluxes.shape[0] else None
                if values is None or not values.any():
                    continue
                sums = np.bincount(inverse, weights=values * area_ha, minlength=keys.size)
                nonzero = np.flatnonzero(sums)
                frame = locations.iloc[nonzero].drop(columns="area_ha")
                frame["module"] = module
                frame["disturbance_type"] = dist_names[dist] if dist >= 0 else ANNUAL_PROCESS
                frame["source_pool"] = POOL_NAMES[source]
                frame["sink_pool"] = POOL_NAMES[sink]
                frame["value_tc"] = sums[nonzero]
                flux_frames.append(frame)
            for fired in trajectory.disturbances[step - 1]:
                dist_frames.extend(_disturbance_frames(fired, inverse, locations, previous, area_ha,
                                                       dist_names, classifier_names))
        previous = (inverse, locations)
    return {"locations": pd.concat(location_frames, ignore_index=True),
            "pools": pd.concat(pool_frames, ignore_index=True),
            "fluxes": pd.concat(flux_frames, ignore_index=True) if flux_frames else None,
            "disturbances": pd.concat(dist_frames, ignore_index=True) if dist_frames else None}


def _location_frame(keys, step, year, n_classes, n_land, classifier_sets, classifier_names, labels):
    land = keys % (n_land * n_land)
    rest = keys // (n_land * n_land)
    age_class = rest % n_classes
    cset = rest // n_classes
    frame = pd.DataFrame({"step": np.full(keys.size, step, dtype=np.int64),
                          "year": np.full(keys.size, year, dtype=np.int64)})
    for column, name in enumerate(classifier_names):
        frame[name] = [classifier_sets[i][column] for i in cset]
    frame["age_class"] = age_class.astype(np.int64)
    frame["land_class"] = [labels[i] for i in land]
    return frame


def _disturbance_frames(fired, inverse, locations, previous, area_ha, dist_names, classifier_names):
    out = []
    prev_inverse, prev_locations = previous
    for type_idx in np.unique(fired[fired >= 0]):
        is_type = fired == type_idx
        pair = inverse[is_type] * (len(prev_locations) + 1) + prev_inverse[is_type]
        pairs, pair_inverse = np.unique(pair, return_inverse=True)
        area = np.bincount(pair_inverse.ravel(), weights=area_ha[is_type])
        post = locations.iloc[pairs // (len(prev_locations) + 1)].drop(columns="area_ha")
        post = post.reset_index(drop=True)
        prev = prev_locations.iloc[pairs % (len(prev_locations) + 1)].reset_index(drop=True)
        post["disturbance_type"] = dist_names[type_idx]
        for column in (*classifier_names, "age_class", "land_class"):
            post[f"prev_{column}"] = prev[column].to_numpy()
        post["area_ha"] = area
        out.append(post)
    return out


def merge(parts: list[dict[str, pd.DataFrame]], classifier_names: list[str],
          age_class_bounds) -> GcbmResults:
    """Sum blocks' tables on equal keys, sorted by key: independent of block order."""
    location = ["step", "year", *classifier_names, "age_class", "land_class"]
    specs = {
        "locations": (location, "area_ha"),
        "pools": ([*location, "pool"], "value_tc"),
        "fluxes": ([*location, "module", "disturbance_type", "source_pool", "sink_pool"], "value_tc"),
        "disturbances": ([*location, "disturbance_type", *(f"prev_{c}" for c in
                                                           (*classifier_names, "age_class",
                                                            "land_class"))], "area_ha"),
    }
    tables = {}
    for name, (keys, value) in specs.items():
        frames = [part[name] for part in parts if part.get(name) is not None]
        if not frames:
            tables[name] = pd.DataFrame(columns=[*keys, value])
            continue
        frame = pd.concat(frames, ignore_index=True)
        tables[name] = frame.groupby(keys, sort=True, dropna=False)[value].sum().reset_index()
    return GcbmResults(tuple(classifier_names), tuple(age_class_bounds), **tables)
