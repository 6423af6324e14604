"""Simulate a batch of GCBM pixels: spinup, then the annual steps (gcbm-spec §5.1, §5.9).

`simulate` is a pure function of its inputs: pixel arrays, resolved parameters and an optional
spinup cache (whose entries are themselves pure functions of their keys).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from flintcloud.errors import EngineInvariantError
from flintcloud.flint.operations import FluxBatch, OperationManager
from flintcloud.gcbm.science.conditions import History, LandUnits, holds, state_variables
from flintcloud.gcbm.science.multipliers import MultiplierState, advance, attach
from flintcloud.gcbm.science.parameters import GcbmParameters
from flintcloud.gcbm.science.pools import N_POOLS
from flintcloud.gcbm.science.processes import (
    AGE_RESET_BIOMASS,
    DecayOperations,
    StandState,
    apply_matrices,
    apply_transitions,
    decay,
    grow,
    live_biomass,
    update_land_class,
)
from flintcloud.gcbm.science.spinup import SpinupStands, annual_timing, spin_up

MASS_BALANCE_RTOL = 1e-9  # of the pixel's total absolute carbon: rounding over a run stays ~1e-13


@dataclass(frozen=True)
class EventLayer:
    """One disturbance layer's events for the batch, in listener order (gcbm-spec §2.4)."""

    name: str
    year: np.ndarray  # (n,) int64, -1: no event
    type_idx: np.ndarray  # (n,) intp disturbance type
    transition_idx: np.ndarray  # (n,) intp transition index, -1: none given (rules may match)
    condition_idx: np.ndarray | None = None  # (n,) intp into rules.event_conditions, -1: none


@dataclass(frozen=True)
class PixelInputs:
    """The simulated pixels of a batch (all arrays (n,))."""

    classifier_set: np.ndarray  # intp into BlockParameters.classifier_sets
    spu: np.ndarray  # intp spatial-unit index
    temperature_c: np.ndarray  # float64
    initial_age: np.ndarray  # int64 (negative: regeneration delay)
    has_initial_age: np.ndarray  # bool; False: no spinup (pools stay at their initial values)
    events: tuple[EventLayer, ...] = ()
    # (len(events), n) int64: each event's position among its land unit's events of that year
    # (user/default disturbance order, science.ordering); None: layer order
    event_rank: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.classifier_set.shape[0])


def distinct_stands(inputs: PixelInputs) -> tuple[PixelInputs, np.ndarray]:
    """The distinct pixels of a batch and, per pixel, its stand: pixels with equal inputs have
    equal per-hectare trajectories (a pure function of the inputs), so each is simulated once.

    Returns (stand inputs, stand_of_pixel (n,) intp); stands are in order of first appearance.
    """
    columns = [inputs.classifier_set, inputs.spu, inputs.temperature_c.view(np.int64),
               inputs.initial_age, inputs.has_initial_age]
    for layer in inputs.events:
        columns += [layer.year, layer.type_idx, layer.transition_idx]
        if layer.condition_idx is not None:
            columns.append(layer.condition_idx)
    if inputs.event_rank is not None:
        columns += list(inputs.event_rank)
    signature = np.stack([np.asarray(c, dtype=np.int64) for c in columns], axis=1)
    _, first, inverse = np.unique(signature, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # number stands by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    rows = first[order]
    stand_inputs = PixelInputs(
        classifier_set=inputs.classifier_set[rows], spu=inputs.spu[rows],
        temperature_c=inputs.temperature_c[rows], initial_age=inputs.initial_age[rows],
        has_initial_age=inputs.has_initial_age[rows],
        events=tuple(EventLayer(layer.name, layer.year[rows], layer.type_idx[rows],
                                layer.transition_idx[rows],
                                None if layer.condition_idx is None else layer.condition_idx[rows])
                     for layer in inputs.events),
        event_rank=None if inputs.event_rank is None else inputs.event_rank[:, rows])
    return stand_inputs, rank[inverse.ravel()].astype(np.intp)


@dataclass
class Trajectory:
    """Per-step, per-pixel results of a batch. Step 0 is the state right after spinup."""

    pools: np.ndarray  # (n_steps + 1, N_POOLS, n) float64 tC/ha at the end of each step
    age: np.ndarray  # (n_steps + 1, n) int64
    classifier_set: np.ndarray  # (n_steps + 1, n) intp
    historic_land_class: np.ndarray  # (n_steps + 1, n) intp
    current_land_class: np.ndarray  # (n_steps + 1, n) intp
    flux_keys: list[tuple[str, int, int, int]] = field(default_factory=list)  # (module, type, src, dst)
    fluxes: list[np.ndarray] = field(default_factory=list)  # per step (1..): (n_keys_so_far, n)
    disturbances: list[list[np.ndarray]] = field(default_factory=list)  # per step: type idx (n,) per layer


@dataclass
class SpinupCache:
    """Spinup results by (growth curve id, spatial unit id, temperature, initial age)."""

    entries: dict[tuple[float, ...], tuple[np.ndarray, int, int]] = field(default_factory=dict)


def spin_up_into(cache: SpinupCache, inputs: PixelInputs, stand_type: np.ndarray,
                 params: GcbmParameters) -> tuple[np.ndarray, np.ndarray]:
    """Spin up the batch's pixels with an initial age whose key is not in `cache` yet, all in
    one batch, into `cache`. Returns the distinct keys of those pixels and each one's key."""
    rows = np.flatnonzero(inputs.has_initial_age)
    curve_ids = np.where(stand_type >= 0, params.stand_types.curve_ids[np.maximum(stand_type, 0)]
                         if params.stand_types.curve_ids.size else -1, -1)
    key = np.stack([curve_ids[rows], inputs.spu[rows], inputs.temperature_c[rows],
                    inputs.initial_age[rows]], axis=1)
    distinct, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    first_row = rows[np.unique(inverse, return_index=True)[1]]
    todo = [i for i, k in enumerate(map(tuple, distinct)) if k not in cache.entries]
    if todo:
        pixel = first_row[todo]
        stands = SpinupStands(stand_type[pixel], inputs.spu[pixel], inputs.temperature_c[pixel],
                              inputs.initial_age[pixel])
        new_pools, new_age, new_delay = spin_up(stands, params)
        for column, i in enumerate(todo):
            cache.entries[tuple(distinct[i])] = (new_pools[:, column].copy(), int(new_age[column]),
                                                 int(new_delay[column]))
    return distinct, inverse


def _spinup_pixels(inputs: PixelInputs, stand_type: np.ndarray, params: GcbmParameters,
                   cache: SpinupCache | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = inputs.n
    pools = np.tile(params.initial_pools[:, None], (1, n))
    age = np.zeros(n, dtype=np.int64)
    regen_delay = np.zeros(n, dtype=np.int64)
    rows = np.flatnonzero(inputs.has_initial_age)
    if rows.size == 0:
        return pools, age, regen_delay
    cache = cache if cache is not None else SpinupCache()
    distinct, inverse = spin_up_into(cache, inputs, stand_type, params)
    keys = list(map(tuple, distinct))
    distinct_pools = np.stack([cache.entries[k][0] for k in keys], axis=1)
    pools[:, rows] = distinct_pools[:, inverse]
    age[rows] = np.array([cache.entries[k][1] for k in keys], dtype=np.int64)[inverse]
    regen_delay[rows] = np.array([cache.entries[k][2] for k in keys], dtype=np.int64)[inverse]
    return pools, age, regen_delay


def initial_state(inputs: PixelInputs, stand_type: np.ndarray, age: np.ndarray,
                  regen_delay: np.ndarray, params: GcbmParameters,
                  initial_land_class: int, historic_land_class: int) -> StandState:
    """The main run's state at TimingInit, incl. the land-class module's decay rule (§5.7)."""
    n = inputs.n
    lc = params.land_classes
    current = np.full(n, initial_land_class, dtype=np.intp)
    is_forest = lc.is_forest[current].copy()
    last_pass = params.spinup.last_pass_type_idx[inputs.spu]
    last_pass_class = np.where(last_pass >= 0, params.disturbances.land_class_idx[last_pass], -1)
    deforested = (last_pass_class >= 0) & ~lc.is_forest[np.maximum(last_pass_class, 0)]
    return StandState(
        age=age.copy(), regen_delay=regen_delay.copy(), stand_type=stand_type.copy(),
        classifier_set=inputs.classifier_set.copy(), spu=inputs.spu.copy(),
        temperature_c=inputs.temperature_c.copy(), current_land_class=current,
        historic_land_class=np.full(n, historic_land_class, dtype=np.intp),
        last_land_class=current.copy(), years_since_transition=np.zeros(n, dtype=np.int64),
        is_forest=is_forest, is_decaying=is_forest | deforested)


class _FluxRecorder:
    """Sums the applied fluxes of a step by (module, disturbance type, source, sink)."""

    def __init__(self, trajectory: Trajectory, n: int) -> None:
        self.trajectory = trajectory
        self.index = {key: i for i, key in enumerate(trajectory.flux_keys)}
        self.n = n
        self.step_values: dict[int, np.ndarray] = {}

    def collect(self, ops: OperationManager) -> None:
        for result in ops.last_applied:
            if not isinstance(result, FluxBatch):
                continue
            dist = -1 if result.metadata is None else result.metadata["disturbance_type"]
            for source, sink, values in zip(result.sources, result.sinks, result.values,
                                            strict=True):
                if source == sink:
                    continue
                key = (result.module_name, dist, int(source), int(sink))
                i = self.index.get(key)
                if i is None:
                    i = self.index[key] = len(self.trajectory.flux_keys)
                    self.trajectory.flux_keys.append(key)
                if i in self.step_values:
                    self.step_values[i] += values
                else:
                    self.step_values[i] = values.copy()
        ops.clear_last_applied()

    def end_step(self) -> None:
        out = np.zeros((len(self.trajectory.flux_keys), self.n), dtype=np.float64)
        for i, values in self.step_values.items():
            out[i] = values
        self.trajectory.fluxes.append(out)
        self.step_values = {}


def check_mass_balance(pools: np.ndarray, expected_total: np.ndarray, step: int, where: str,
                       pixel_label: Callable[[int], str] = str) -> None:
    """All 30 pools of a pixel (incl. Atmosphere and emissions) keep their initial sum:
    carbon only moves between pools. Raises EngineInvariantError naming pixel and step."""
    total = pools.sum(axis=0) - expected_total
    scale = np.abs(pools).sum(axis=0) + 1.0
    bad = np.abs(total) > MASS_BALANCE_RTOL * scale
    if bad.any():
        pixel = int(np.flatnonzero(bad)[0])
        raise EngineInvariantError(
            f"mass balance violated: pools sum to {total[pixel]:.6g} tC/ha",
            source=where, field=f"pixel {pixel_label(pixel)}, step {step}")


def simulate(inputs: PixelInputs, params: GcbmParameters, stand_type_by_set: np.ndarray,
             rule_transition: np.ndarray, start_year: int, n_steps: int, *,
             initial_land_class: int = 0, historic_land_class: int = 0,
             spinup_cache: SpinupCache | None = None, where: str = "batch",
             pixel_label: Callable[[int], str] = str,
             on_step: Callable[[int], None] | None = None) -> Trajectory:
    """Spin up and run `n_steps` annual steps for every pixel of the batch."""
    n = inputs.n
    stand_type = stand_type_by_set[inputs.classifier_set, inputs.spu] if n else \
        np.zeros(0, dtype=np.intp)
    pools, age, regen_delay = _spinup_pixels(inputs, stand_type, params, spinup_cache)
    # Spinup is not mass-conserving by design (GCBM zeroes the biomass a historic disturbance
    # leaves, §5.8 step 2): the main run conserves the post-spinup total.
    initial_total = pools.sum(axis=0)
    state = initial_state(inputs, stand_type, age, regen_delay, params, initial_land_class,
                          historic_land_class)
    ops = OperationManager(n, annual_timing())
    ops.values = pools
    trajectory = Trajectory(
        pools=np.empty((n_steps + 1, N_POOLS, n), dtype=np.float64),
        age=np.empty((n_steps + 1, n), dtype=np.int64),
        classifier_set=np.empty((n_steps + 1, n), dtype=np.intp),
        historic_land_class=np.empty((n_steps + 1, n), dtype=np.intp),
        current_land_class=np.empty((n_steps + 1, n), dtype=np.intp))
    _record(trajectory, 0, ops, state)
    recorder = _FluxRecorder(trajectory, n)
    rates = DecayOperations.build(params.decay, state.temperature_c)
    multipliers = params.growth_multipliers
    listener = _Listener(inputs, params, MultiplierState.cleared(n),
                         History.empty(n, len(inputs.events)) if params.rules.uses_history
                         else None)
    for step in range(1, n_steps + 1):
        year = start_year + step - 1
        trajectory.disturbances.append(listener.disturb(ops, state, stand_type_by_set,
                                                        rule_transition, year))
        update_land_class(state, params.land_classes)
        if multipliers.enabled and multipliers.same_step:
            advance(listener.multipliers, multipliers)
        grow(ops, state, params.stand_types,
             listener.multipliers.current if multipliers.enabled else None)
        if multipliers.enabled and not multipliers.same_step:
            advance(listener.multipliers, multipliers)
        decay(ops, state, rates)
        recorder.collect(ops)
        recorder.end_step()
        check_mass_balance(ops.values, initial_total, step, where, pixel_label)
        _record(trajectory, step, ops, state)
        if on_step is not None:
            on_step(year)
    width = len(trajectory.flux_keys)
    trajectory.fluxes = [np.pad(f, ((0, width - f.shape[0]), (0, 0))) for f in trajectory.fluxes]
    return trajectory


def _record(trajectory: Trajectory, step: int, ops: OperationManager, state: StandState) -> None:
    trajectory.pools[step] = ops.values
    trajectory.age[step] = state.age
    trajectory.classifier_set[step] = state.classifier_set
    trajectory.historic_land_class[step] = state.historic_land_class
    trajectory.current_land_class[step] = state.current_land_class


@dataclass
class _Listener:
    """CBMDisturbanceListener with the modules its DisturbanceEvent reaches: the event and
    transition modules, GrowthMultiplierModule and the listener's own history (§5.7)."""

    inputs: PixelInputs
    params: GcbmParameters
    multipliers: MultiplierState
    history: History | None

    def _ranks(self) -> np.ndarray:
        if self.inputs.event_rank is not None:
            return self.inputs.event_rank
        years = np.stack([layer.year for layer in self.inputs.events])
        ranks = np.zeros(years.shape, dtype=np.int64)
        for slot in range(1, years.shape[0]):  # layer order within a year
            ranks[slot] = (years[:slot] == years[slot][None, :]).sum(axis=0)
        return ranks

    def disturb(self, ops: OperationManager, state: StandState, stand_type_by_set: np.ndarray,
                rule_transition: np.ndarray, year: int) -> list[np.ndarray]:
        """This year's events of every land unit, in its order, each checked against its
        conditions when its turn comes. Returns the type fired per event slot (-1: none)."""
        events = self.inputs.events
        fired = [np.full(state.n, -1, dtype=np.intp) for _ in events]
        if not events:
            return fired
        this_year = np.stack([layer.year == year for layer in events])
        if not this_year.any():
            return fired
        ranks = np.where(this_year, self._ranks(), -1)
        for position in range(int(ranks.max()) + 1):
            at = ranks == position
            has_event = at.any(axis=0)
            slot = np.argmax(at, axis=0)
            self._fire(ops, state, stand_type_by_set, rule_transition, year, has_event, slot,
                       fired)
        return fired

    def _gather(self, slot: np.ndarray, name: str) -> np.ndarray:
        columns = np.arange(slot.size)
        values = np.stack([getattr(layer, name) for layer in self.inputs.events])
        out: np.ndarray = values[slot, columns]
        return out

    def _fire(self, ops: OperationManager, state: StandState, stand_type_by_set: np.ndarray,
              rule_transition: np.ndarray, year: int, has_event: np.ndarray, slot: np.ndarray,
              fired: list[np.ndarray]) -> None:
        params = self.params
        dist = params.disturbances
        type_idx = np.where(has_event, self._gather(slot, "type_idx"), 0)
        has_event = self._check_conditions(ops, state, year, has_event, slot, type_idx)
        if not has_event.any():
            return
        matrix_idx = np.where(has_event, dist.matrix_idx[type_idx, state.spu], -1)
        fires = matrix_idx >= 0  # an event without a matrix for its spatial unit is skipped
        if self.history is not None:
            self.history.record(fires, type_idx, year, state.age)
        new_class = dist.land_class_idx[type_idx]
        changes_class = fires & (new_class >= 0)
        state.current_land_class[changes_class] = new_class[changes_class]
        apply_matrices(ops, matrix_idx, dist, np.where(fires, type_idx, -1))
        resets = fires & (live_biomass(ops.values) < AGE_RESET_BIOMASS)
        state.age[resets] = 0
        given = self._gather(slot, "transition_idx")
        transition = np.where(given >= 0, given, rule_transition[state.classifier_set, type_idx])
        apply_transitions(ops.values, state, np.where(fires, transition, -1), params.transitions,
                          params.stand_types, stand_type_by_set)
        attach(self.multipliers, params.growth_multipliers, fires, type_idx)
        for k in np.unique(slot[fires]):
            is_k = fires & (slot == k)
            fired[k][is_k] = type_idx[is_k]

    def _check_conditions(self, ops: OperationManager, state: StandState, year: int,
                          has_event: np.ndarray, slot: np.ndarray,
                          type_idx: np.ndarray) -> np.ndarray:
        """The event's own conditions, then the listener's run and override conditions;
        returns which events still fire and overrides `type_idx` in place."""
        rules = self.params.rules
        uses_conditions = any(layer.condition_idx is not None for layer in self.inputs.events)
        if not rules.listener and not uses_conditions:
            return has_event
        units = LandUnits(ops.values, state_variables(
            rules, age=state.age, regen_delay=state.regen_delay,
            classifier_set=state.classifier_set, spu=state.spu,
            current_land_class=state.current_land_class,
            historic_land_class=state.historic_land_class, is_forest=state.is_forest,
            is_decaying=state.is_decaying), self.params.disturbances.type_names, year,
            self.history)
        if uses_conditions:
            condition = np.stack([np.full(state.n, -1, dtype=np.intp) if layer.condition_idx is
                                  None else layer.condition_idx for layer in self.inputs.events]
                                 )[slot, np.arange(slot.size)]
            for index in np.unique(condition[has_event & (condition >= 0)]):
                is_here = has_event & (condition == index)
                ok = holds(rules.event_conditions[index], units, rules.event_where[index],
                           is_here)
                has_event = has_event & ~(is_here & ~ok)
        had_run = np.zeros(state.n, dtype=bool)
        should_run = np.zeros(state.n, dtype=bool)
        new_type = np.full(state.n, -1, dtype=np.intp)
        for condition_ in rules.listener:
            applies = has_event & np.isin(type_idx, condition_.type_idx)
            if not applies.any():
                continue
            applies = holds(condition_.match, units, condition_.where, applies)
            passes = applies
            if condition_.run:
                run_ok = np.zeros(state.n, dtype=bool)
                for conjunction in condition_.run:  # GCBM stops at the first that holds
                    run_ok |= holds(conjunction, units, condition_.where, applies & ~run_ok)
                had_run |= applies
                should_run |= applies & run_ok
                passes = applies & run_ok
            if condition_.override and condition_.override_type_idx >= 0:
                override = np.zeros(state.n, dtype=bool)
                for conjunction in condition_.override:
                    override |= holds(conjunction, units, condition_.where, passes & ~override)
                takes = passes & override & (new_type < 0)
                new_type[takes] = condition_.override_type_idx
        has_event = has_event & ~(had_run & ~should_run)
        overridden = has_event & (new_type >= 0)
        type_idx[overridden] = new_type[overridden]
        return has_event
