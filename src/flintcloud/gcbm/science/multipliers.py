"""Growth multipliers after disturbances: GCBM's GrowthMultiplierModule (moja.canada
growthmultipliermodule.cpp/.h) and their use by CBMGrowthModule (gcbm-spec §5.5 step 2).

A disturbance type may own a *set* of series, one per forest type, each a list of multipliers in
time-step order (the time-step numbers only order them; gaps are ignored). A fired disturbance
makes its type's set the land unit's active set, or clears it when the type has none. Each
TimingStep of the module advances every series of the active set at once: an exhausted series
gives 1.0, and the set ends when all are exhausted, which empties `current_growth_multipliers`
at the next advance. CBMGrowthModule multiplies all five increments of its softwood
(hardwood) component by the "Softwood" ("Hardwood") value, if there is one; other forest-type
names never apply. The turnover-replacing growth is not multiplied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FOREST_TYPES = ("Softwood", "Hardwood")  # CBMGrowthModule's keys, case-sensitive


@dataclass(frozen=True)
class GrowthMultipliers:
    """The series sets by disturbance type index; `enabled` False: the module does not run."""

    # (n_types, 2, max_steps) float64 per component; 1.0 past a series' end or without one, as
    # GrowthMultiplierSeries::next gives an exhausted series (and x * 1.0 is x)
    values: np.ndarray
    length: np.ndarray  # (n_types,) int64 advances until the set ends (0: the type has no set)
    enabled: bool = False
    # The module's TimingStep runs between the listener's and CBMGrowthModule's: a value applies
    # in the disturbance year. Otherwise (before the listener or after growth) one year later.
    same_step: bool = True

    @classmethod
    def none(cls, n_types: int = 0) -> GrowthMultipliers:
        return cls(np.ones((n_types, 2, 0), dtype=np.float64), np.zeros(n_types, dtype=np.int64))

    @classmethod
    def build(cls, n_types: int, series: dict[int, dict[str, dict[int, float]]], *,
              same_step: bool) -> GrowthMultipliers:
        """`series`: type index -> forest type name -> time step -> multiplier."""
        lengths = np.zeros(n_types, dtype=np.int64)
        for type_idx, by_forest_type in series.items():
            lengths[type_idx] = max((len(steps) for steps in by_forest_type.values()), default=0)
        width = int(lengths.max(initial=0))
        values = np.ones((n_types, 2, width), dtype=np.float64)
        for type_idx, by_forest_type in series.items():
            for component, name in enumerate(FOREST_TYPES):
                steps = by_forest_type.get(name)
                if not steps:
                    continue
                ordered = [steps[step] for step in sorted(steps)]
                values[type_idx, component, : len(ordered)] = ordered
        return cls(values, lengths, enabled=True, same_step=same_step)


@dataclass
class MultiplierState:
    """Per land unit: the active set (a disturbance type, -1: none), how far it has advanced,
    and `current_growth_multipliers` as one factor per component (1.0: none)."""

    active_type: np.ndarray  # (n,) intp
    position: np.ndarray  # (n,) int64 advances made on the active set
    current: np.ndarray  # (2, n) float64

    @classmethod
    def cleared(cls, n: int) -> MultiplierState:
        """GrowthMultiplierModule::doTimingInit: no active set, no current multipliers."""
        return cls(np.full(n, -1, dtype=np.intp), np.zeros(n, dtype=np.int64),
                   np.ones((2, n), dtype=np.float64))


def attach(state: MultiplierState, table: GrowthMultipliers, fired: np.ndarray,
           type_idx: np.ndarray) -> None:
    """doDisturbanceEvent: where an event fired, its type's set (or none) becomes the active one."""
    if not table.enabled or not fired.any():
        return
    has_set = table.length[np.maximum(type_idx, 0)] > 0
    state.active_type[fired] = np.where(has_set, type_idx, -1)[fired]
    state.position[fired] = 0


def advance(state: MultiplierState, table: GrowthMultipliers) -> None:
    """doTimingStep: the active set's next values become current; once it has ended, current
    is emptied."""
    if not table.enabled:
        return
    active = state.active_type >= 0
    kind = np.maximum(state.active_type, 0)
    running = active & (state.position < table.length[kind])
    state.current[:] = 1.0
    if not running.any():
        return
    rows = np.flatnonzero(running)
    step = state.position[rows]
    state.current[:, rows] = table.values[kind[rows], :, step].T
    state.position[rows] += 1
