"""GCBM spinup (gcbm-spec §5.8), computed once per distinct spinup key and broadcast.

GCBM caches the rotation loop per (spatial unit, historic disturbance, growth curve, return
interval, mean annual temperature); here every distinct key of a batch runs in one vectorised
batch, and so does the per-stand tail (last-pass disturbance, growth to the inventory age,
delay years) over the distinct (key, age, delay) stands.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from flintcloud.flint.operations import OperationManager
from flintcloud.flint.timing import Timing
from flintcloud.gcbm.science.parameters import Disturbances, GcbmParameters
from flintcloud.gcbm.science.pools import BIOMASS_IDX, N_POOLS, Pool
from flintcloud.gcbm.science.processes import (
    DecayOperations,
    GrowthTables,
    StandState,
    apply_matrices,
    decay,
    grow,
    turnover_only,
)

STABLE_LOW, STABLE_HIGH = 0.999, 1.001  # slow-pool ratio bounds between rotations
# Stands spun up together at most: each step streams every pool of every stand, so a chunk's
# arrays should stay near the cache (160,000 stands at once ran at a third of the speed per stand of
# 11,000), and memory stays bounded whatever the number of distinct stands. Stands are
# independent: the chunk size changes no result.
CHUNK = 16384


def annual_timing() -> Timing:
    """A full-step annual timing: spinup and GCBM runs only use whole years."""
    return Timing(datetime(2000, 1, 1), datetime(2001, 1, 1), stepping="annual")


@dataclass(frozen=True)
class SpinupStands:
    """Distinct stands to spin up; every array has one entry per stand."""

    stand_type: np.ndarray  # intp, -1 = no growth curve (no spinup, age 0)
    spu: np.ndarray  # intp
    temperature_c: np.ndarray  # float64
    initial_age: np.ndarray  # int64; negative = regeneration delay of -age years

    @property
    def n(self) -> int:
        return int(self.stand_type.shape[0])


def _state(stand_type: np.ndarray, spu: np.ndarray, temperature: np.ndarray) -> StandState:
    n = stand_type.shape[0]
    zeros = np.zeros(n, dtype=np.int64)
    return StandState(age=zeros.copy(), regen_delay=zeros.copy(), stand_type=stand_type.copy(),
                      classifier_set=np.zeros(n, np.intp), spu=spu.copy(),
                      temperature_c=temperature.copy(), current_land_class=np.zeros(n, np.intp),
                      historic_land_class=np.zeros(n, np.intp), last_land_class=np.zeros(n, np.intp),
                      years_since_transition=zeros.copy(), is_forest=np.ones(n, bool),
                      is_decaying=np.ones(n, bool))


def _step(ops: OperationManager, state: StandState, params: GcbmParameters,
          rates: DecayOperations, tables: GrowthTables) -> None:
    grow(ops, state, params.stand_types, tables=tables, records_fluxes=False)
    decay(ops, state, rates)
    # spinup reports no fluxes: keeping a rotation's applied fluxes (k transfers x stands per
    # operation, for every year of the rotation) cost ~1 GB on 11,000 distinct stands
    ops.clear_last_applied()


def rotate(stand_type: np.ndarray, spu: np.ndarray, temperature: np.ndarray,
           params: GcbmParameters) -> np.ndarray:
    """The rotation loop (§5.8 step 2) for distinct keys: pools (N_POOLS, k) of each stand left
    mature and undisturbed after its last rotation. Compiled where it can be (spinup_kernel.py: the
    same bits), else `rotate_batched`."""
    kernels = compiled_kernels()
    if kernels is None:
        return rotate_batched(stand_type, spu, temperature, params)
    spinup, disturbances = params.spinup, params.disturbances
    out = np.empty((N_POOLS, stand_type.shape[0]), dtype=np.float64)
    rates = DecayOperations.build(params.decay, temperature)
    kernels.rotate(*_growth_arguments(params, stand_type, rates),
                   spinup.return_interval[spu], spinup.max_rotations[spu],
                   spinup.minimum_rotation,
                   disturbances.matrix_idx[spinup.historic_type_idx[spu], spu],
                   *_packed_matrices(disturbances), out)
    return out


@cache
def compiled_kernels() -> ModuleType | None:
    """spinup_kernel.py compiled, or None: Numba is not installed, cannot keep its compiled
    code (no writable cache folder: NUMBA_CACHE_DIR), or its exp/pow are not the C library's;
    then the batched NumPy form runs (the same numbers, slower), with a warning."""
    try:
        from flintcloud.gcbm.science import spinup_kernel as kernels
    except ImportError:
        return None
    except (RuntimeError, OSError) as error:  # Numba finds no folder to cache compiled code in
        warnings.warn(f"spinup runs in NumPy: {error}", RuntimeWarning, stacklevel=2)
        return None
    if not kernels.libm_matches():
        warnings.warn("Numba's exp/pow differ from the C library's here: spinup runs in NumPy "
                      "(the same numbers, slower)", RuntimeWarning, stacklevel=2)
        return None
    return kernels


def load_compiled() -> bool:
    """Load (or compile) the compiled spinup now rather than in a run's first spinup: ~1 s a
    process, which a long-lived worker pays when it starts. Whether it is there. The empty
    calls have the argument types of every real call, so none compiles again."""
    kernels = compiled_kernels()
    if kernels is None:
        return False
    stands = np.zeros(0, dtype=np.intp)
    counts = np.zeros(0, dtype=np.int64)
    pools = np.zeros((N_POOLS, 0), dtype=np.float64)
    growth = (stands, np.zeros((2, 3, 1, 1)), np.zeros((2, 0), dtype=bool), np.zeros((2, 6, 0)),
              np.zeros((2, 10, 0)), np.zeros((18, 0)), np.zeros((2, 0)), 0.0)
    kernels.rotate(*growth, counts, counts, 0, stands, np.zeros(1, dtype=np.int64), counts,
                   counts, np.zeros(0), pools)
    kernels.grow_to(pools, counts, *growth)
    return True


def _growth_arguments(params: GcbmParameters, stand_type: np.ndarray,
                      rates: DecayOperations) -> tuple[Any, ...]:
    """What a kernel step needs of its stands: growth and decay parameters, stands last."""
    tables = GrowthTables.gather(params.stand_types, stand_type)
    return (tables.stand_type, params.stand_types.increments, tables.has_component,
            tables.roots, tables.turnover, rates.dom, rates.slow, rates.mixing_rate)


def _packed_matrices(disturbances: Disturbances) -> tuple[np.ndarray, ...]:
    """Every disturbance matrix's transfers in one array each; matrix m's are
    `start[m]:start[m + 1]`."""
    matrices = disturbances.matrices
    start = np.zeros(len(matrices) + 1, dtype=np.int64)
    start[1:] = np.cumsum([matrix.sources.size for matrix in matrices])

    def joined(name: str, dtype: type) -> np.ndarray:
        parts = [getattr(matrix, name) for matrix in matrices]
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)
    return (start, joined("sources", np.int64), joined("sinks", np.int64),
            joined("proportions", np.float64))


def rotate_batched(stand_type: np.ndarray, spu: np.ndarray, temperature: np.ndarray,
                   params: GcbmParameters) -> np.ndarray:
    """`rotate` as NumPy passes over the batch: the definition the compiled form follows.

    Every stand runs in one loop whatever its return interval: a stand's rotation ends after its
    own interval's steps (its stopping test, then the historic disturbance), and a stand leaves
    the batch as soon as it is done. Each stand goes through the same operations as alone.
    """
    spinup = params.spinup
    k = stand_type.shape[0]
    out = np.zeros((N_POOLS, k), dtype=np.float64)
    batch = _Rotating.start(stand_type, spu, temperature, params)
    while batch.stand.size:
        _step(batch.ops, batch.state, params, batch.rates, batch.tables)
        batch.year += 1
        ends = batch.year == spinup.return_interval[batch.state.spu]
        if not ends.any():
            continue
        values = batch.ops.values
        slow = values[Pool.ABOVE_GROUND_SLOW_SOIL] + values[Pool.BELOW_GROUND_SLOW_SOIL]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(batch.last_slow != 0, slow / batch.last_slow, 0.0)
        is_stable = (ratio > STABLE_LOW) & (ratio < STABLE_HIGH)
        batch.last_slow = np.where(ends, slow, batch.last_slow)
        finishes = ends & ((is_stable & (batch.rotation > spinup.minimum_rotation))
                           | (batch.rotation == spinup.max_rotations[batch.state.spu]))
        out[:, batch.stand[finishes]] = values[:, finishes]
        if finishes.any():
            batch = batch.take(~finishes)
            ends = ends[~finishes]
        if ends.any():
            _disturb(batch, ends, params)
    return out


@dataclass
class _Rotating:
    """The stands of `rotate` not done yet: their index in its output, their state and pools,
    the year within the current rotation, the rotation number, the slow pools at the end of
    the last rotation."""

    stand: np.ndarray
    state: StandState
    ops: OperationManager
    rates: DecayOperations
    tables: GrowthTables
    year: np.ndarray
    rotation: np.ndarray
    last_slow: np.ndarray

    @classmethod
    def start(cls, stand_type: np.ndarray, spu: np.ndarray, temperature: np.ndarray,
              params: GcbmParameters) -> _Rotating:
        k = stand_type.shape[0]
        ops = OperationManager(k, annual_timing())
        ops.values = np.zeros((N_POOLS, k), dtype=np.float64)
        return cls(np.arange(k), _state(stand_type, spu, temperature), ops,
                   DecayOperations.build(params.decay, temperature),
                   GrowthTables.gather(params.stand_types, stand_type), np.zeros(k, np.int64),
                   np.ones(k, np.int64), np.zeros(k, np.float64))

    def take(self, keep: np.ndarray) -> _Rotating:
        ops = OperationManager(int(keep.sum()), annual_timing())
        ops.values = np.ascontiguousarray(self.ops.values[:, keep])
        return _Rotating(self.stand[keep], self.state.take(keep), ops, self.rates.take(keep),
                         self.tables.take(keep), self.year[keep], self.rotation[keep], self.last_slow[keep])


def _disturb(batch: _Rotating, ends: np.ndarray, params: GcbmParameters) -> None:
    """The historic disturbance closing the rotation of the stands `ends`, biomass cleared,
    and their next rotation started."""
    spu = batch.state.spu
    historic = params.disturbances.matrix_idx[params.spinup.historic_type_idx[spu], spu]
    apply_matrices(batch.ops, np.where(ends, historic, -1), params.disturbances)
    batch.ops.values[np.ix_(BIOMASS_IDX, np.flatnonzero(ends))] = 0.0
    batch.ops.clear_all()
    batch.state.age[ends] = 0
    batch.year[ends] = 0
    batch.rotation[ends] += 1


def spin_up(stands: SpinupStands, params: GcbmParameters) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Post-spinup pools (N_POOLS, n), age (n,) and regeneration delay (n,) of each stand."""
    spinup = params.spinup
    n = stands.n
    pools = np.zeros((N_POOLS, n), dtype=np.float64)
    age = np.zeros(n, dtype=np.int64)
    regen_delay = np.where(stands.initial_age < 0, -stands.initial_age, 0).astype(np.int64)
    runs = (stands.stand_type >= 0) & spinup.has_parameters[stands.spu]
    if runs.any():
        rows = np.flatnonzero(runs)
        key = np.stack([stands.stand_type[rows].astype(np.float64), stands.spu[rows],
                        stands.temperature_c[rows]], axis=1)
        keys, key_of_row = np.unique(key, axis=0, return_inverse=True)
        rotated = np.concatenate(
            [rotate(keys[chunk, 0].astype(np.intp), keys[chunk, 1].astype(np.intp),
                    keys[chunk, 2], params) for chunk in _chunks(keys.shape[0])], axis=1)
        key_of_row = key_of_row.ravel()
        for chunk in _chunks(rows.size):
            these = rows[chunk]
            tail_pools, tail_age = _finish(rotated[:, key_of_row[chunk]], stands.stand_type[these],
                                           stands.spu[these], stands.temperature_c[these],
                                           np.maximum(stands.initial_age[these], 0), params)
            pools[:, these] = tail_pools
            age[these] = tail_age
    overrides = params.initial_pools > 0  # pools_cbm.json values > 0 replace spinup's
    pools[overrides] = params.initial_pools[overrides, None]
    return pools, age, regen_delay


def _chunks(n: int) -> list[slice]:
    return [slice(start, min(start + CHUNK, n)) for start in range(0, n, CHUNK)]


def _grow_to(ops: OperationManager, state: StandState, params: GcbmParameters,
             rates: DecayOperations, target_age: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Growth from age 0 to each stand's inventory age: its pools and age then (§5.8 step 5)."""
    kernels = compiled_kernels()
    if kernels is not None:
        pools = np.ascontiguousarray(ops.values)
        kernels.grow_to(pools, target_age,
                        *_growth_arguments(params, state.stand_type, rates))
        return pools, target_age.astype(np.int64)
    tables = GrowthTables.gather(params.stand_types, state.stand_type)
    out_pools = np.empty_like(ops.values)
    out_age = np.zeros(state.n, dtype=np.int64)
    state.age[:] = 0
    is_reached = target_age == 0
    out_pools[:, is_reached] = ops.values[:, is_reached]
    for step in range(int(target_age.max(initial=0))):
        _step(ops, state, params, rates, tables)
        ops.clear_all()
        reaches = target_age == step + 1
        out_pools[:, reaches] = ops.values[:, reaches]
        out_age[reaches] = state.age[reaches]
    return out_pools, out_age


def _finish(pools: np.ndarray, stand_type: np.ndarray, spu: np.ndarray, temperature: np.ndarray,
            target_age: np.ndarray, params: GcbmParameters) -> tuple[np.ndarray, np.ndarray]:
    """Last-pass disturbance, growth from age 0 to the inventory age, then delay years
    (§5.8 steps 4-6), for stands that may differ in key, age and delay."""
    spinup = params.spinup
    n = stand_type.shape[0]
    state = _state(stand_type, spu, temperature)
    ops = OperationManager(n, annual_timing())
    ops.values = pools.copy()
    last_pass = params.disturbances.matrix_idx[spinup.last_pass_type_idx[spu], spu]
    apply_matrices(ops, last_pass, params.disturbances)
    ops.clear_all()
    rates = DecayOperations.build(params.decay, temperature)
    out_pools, out_age = _grow_to(ops, state, params, rates, target_age)
    delay = spinup.delay[spu]
    if (delay > 0).any():
        ops.values = out_pools
        state.age = out_age.copy()
        for step in range(int(delay.max())):
            is_delayed = delay > step
            turnover_only(ops, state, params.stand_types, is_delayed)
            masked = StandState(**{**state.__dict__, "is_decaying": state.is_decaying & is_delayed})
            decay(ops, masked, rates)
            ops.clear_all()
        out_pools = ops.values
    return out_pools, out_age
