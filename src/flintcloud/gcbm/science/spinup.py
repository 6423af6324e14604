"""GCBM spinup (gcbm-spec §5.8), computed once per distinct spinup key and broadcast.

GCBM caches the rotation loop per (spatial unit, historic disturbance, growth curve, return
interval, mean annual temperature); here every distinct key of a batch runs in one vectorised
batch, and so does the per-stand tail (last-pass disturbance, growth to the inventory age,
delay years) over the distinct (key, age, delay) stands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from flintcloud.flint.operations import OperationManager
from flintcloud.flint.timing import Timing
from flintcloud.gcbm.science.parameters import GcbmParameters
from flintcloud.gcbm.science.pools import BIOMASS_IDX, N_POOLS, Pool
from flintcloud.gcbm.science.processes import (
    DecayOperations,
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
          rates: DecayOperations) -> None:
    grow(ops, state, params.stand_types)
    decay(ops, state, rates)
    # spinup reports no fluxes: keeping a rotation's applied fluxes (k transfers x stands per
    # operation, for every year of the rotation) cost ~1 GB on 11,000 distinct stands
    ops.clear_last_applied()


def rotate(stand_type: np.ndarray, spu: np.ndarray, temperature: np.ndarray,
           params: GcbmParameters) -> np.ndarray:
    """The rotation loop (§5.8 step 2) for distinct keys: pools (N_POOLS, k) of each stand left
    mature and undisturbed after its last rotation."""
    spinup = params.spinup
    k = stand_type.shape[0]
    out = np.zeros((N_POOLS, k), dtype=np.float64)
    for interval in np.unique(spinup.return_interval[spu]):
        group = np.flatnonzero(spinup.return_interval[spu] == interval)
        state = _state(stand_type[group], spu[group], temperature[group])
        ops = OperationManager(group.size, annual_timing())
        ops.values = np.zeros((N_POOLS, group.size), dtype=np.float64)
        rates = DecayOperations.build(params.decay, state.temperature_c)
        max_rotations = spinup.max_rotations[state.spu]
        historic = params.disturbances.matrix_idx[spinup.historic_type_idx[state.spu], state.spu]
        last_slow = np.zeros(group.size, dtype=np.float64)
        is_done = np.zeros(group.size, dtype=bool)
        for rotation in range(1, int(max_rotations.max()) + 1):
            state.age[:] = 0
            for _ in range(int(interval)):
                _step(ops, state, params, rates)
            slow = ops.values[Pool.ABOVE_GROUND_SLOW_SOIL] + ops.values[Pool.BELOW_GROUND_SLOW_SOIL]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(last_slow != 0, slow / last_slow, 0.0)
            is_stable = (ratio > STABLE_LOW) & (ratio < STABLE_HIGH)
            last_slow = slow
            finishes = ~is_done & ((is_stable & (rotation > spinup.minimum_rotation))
                                   | (rotation == max_rotations))
            out[:, group[finishes]] = ops.values[:, finishes]
            is_done |= finishes
            if is_done.all():
                break
            apply_matrices(ops, np.where(is_done, -1, historic), params.disturbances)
            ops.values[np.ix_(BIOMASS_IDX, np.flatnonzero(~is_done))] = 0.0
            ops.clear_all()
    return out


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
    out_pools = np.empty_like(pools)
    out_age = np.zeros(n, dtype=np.int64)
    state.age[:] = 0
    is_reached = target_age == 0
    out_pools[:, is_reached] = ops.values[:, is_reached]
    for step in range(int(target_age.max(initial=0))):
        _step(ops, state, params, rates)
        ops.clear_all()
        reaches = target_age == step + 1
        out_pools[:, reaches] = ops.values[:, reaches]
        out_age[reaches] = state.age[reaches]
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
