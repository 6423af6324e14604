"""Spinup's annual step compiled per stand (Numba): the rotation loop and the growth to the
inventory age, a stand at a time with its pools in registers.

Spinup is most of a run where no two pixels are alike (each stand runs ~2,000 steps), and as
NumPy passes each step streams every pool of every stand ~500 times. Here each step is the same
float operations in the same order as `processes.grow` (no recorded fluxes) followed by
`processes.decay`, so the pools have the same bits (tests/gcbm/science/test_spinup_kernel.py compares
both on every project's stands, and the reference tests judge both against real GCBM). The
NumPy form stays the science's definition, and the fallback where Numba is missing or calls a
C library whose exp/pow differ from the one GCBM ran with (`libm_matches`).

Operation order, as FLINT applies it: a transfer is `source -= amount` then `sink += amount`,
transfer after transfer; amounts of one operation are fixed before any is applied (stock
amounts from the snapshot taken at submission, proportional ones from the pools then). A
transfer of zero changes no pool's bits (pools are never -0.0), so one a stand would make with
a zero amount in the batched form is left out here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple, cast

import numba
import numpy as np

from flintcloud.gcbm.science.parameters import Root, Turnover
from flintcloud.gcbm.science.pools import N_POOLS, Pool
from flintcloud.gcbm.science.processes import (
    COMPONENT_POOLS,
    DECAYING,
    OVERMATURE_TOLERANCE,
    SNAGS,
)
from flintcloud.gcbm.science.spinup import STABLE_HIGH, STABLE_LOW

_Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
_jit = cast(_Decorator, numba.njit(cache=True, error_model="numpy", nogil=True))
# The step's parts, inlined into the loops: a call passing arrays costs reference counting.
_inline = cast(_Decorator, numba.njit(cache=True, error_model="numpy", inline="always"))

# Pool indices as plain ints (compile-time constants for Numba).
_ATM = int(Pool.ATMOSPHERE)
_CO2 = int(Pool.CO2)
_AG_VFAST, _BG_VFAST = int(Pool.ABOVE_GROUND_VERY_FAST_SOIL), int(Pool.BELOW_GROUND_VERY_FAST_SOIL)
_AG_FAST, _BG_FAST = int(Pool.ABOVE_GROUND_FAST_SOIL), int(Pool.BELOW_GROUND_FAST_SOIL)
_AG_SLOW, _BG_SLOW = int(Pool.ABOVE_GROUND_SLOW_SOIL), int(Pool.BELOW_GROUND_SLOW_SOIL)
_MEDIUM = int(Pool.MEDIUM_SOIL)
# per component (softwood, hardwood): merch, foliage, other, coarse roots, fine roots
_BIOMASS = np.array(COMPONENT_POOLS, dtype=np.int64)
_STEM_SNAG = np.array([stem for stem, _ in SNAGS], dtype=np.int64)
_BRANCH_SNAG = np.array([branch for _, branch in SNAGS], dtype=np.int64)
# CBMDecayModule's DOM pools in its operation order and the slow pool each decays into
_DECAY_SOURCE = np.array([source for source, _ in DECAYING], dtype=np.int64)
_DECAY_SINK = np.array([sink for _, sink in DECAYING], dtype=np.int64)
# Turnover and root-parameter columns
_FOLIAGE, _STEM, _BRANCH = int(Turnover.FOLIAGE), int(Turnover.STEM), int(Turnover.BRANCH)
_BRANCH_SPLIT, _COARSE_SPLIT = int(Turnover.BRANCH_SNAG_SPLIT), int(Turnover.COARSE_ROOT_SPLIT)
_STEM_SNAG_RATE, _BRANCH_SNAG_RATE = int(Turnover.STEM_SNAG), int(Turnover.BRANCH_SNAG)
_COARSE, _FINE_SPLIT, _FINE = (int(Turnover.COARSE_ROOT), int(Turnover.FINE_ROOT_SPLIT),
                               int(Turnover.FINE_ROOT))
_SW_A, _HW_A, _HW_B = int(Root.SW_A), int(Root.HW_A), int(Root.HW_B)
_FRP_A, _FRP_B, _FRP_C = int(Root.FRP_A), int(Root.FRP_B), int(Root.FRP_C)
_OVERMATURE_TOLERANCE = OVERMATURE_TOLERANCE
_STABLE_LOW, _STABLE_HIGH = STABLE_LOW, STABLE_HIGH


@_inline
def _maximum(a: float, b: float) -> float:
    """np.maximum's scalar rule: NaN propagates, else the first operand unless below."""
    if math.isnan(a) or a >= b:
        return a
    return b


@_inline
def _move(v: np.ndarray, source: int, sink: int, amount: float) -> None:
    v[source] -= amount
    v[sink] += amount


@_inline
def _increments(v: np.ndarray, age: int, stand_type: int, increments: np.ndarray,
                has: np.ndarray, roots: np.ndarray, out: np.ndarray) -> None:
    """processes._increments for one stand: out (2, 5)."""
    n_ages = increments.shape[3]
    at = min(max(age, 0), n_ages - 1)
    root_biomass = (0.0, 0.0)
    for c in range(2):
        merch, foliage, other = v[_BIOMASS[c, 0]], v[_BIOMASS[c, 1]], v[_BIOMASS[c, 2]]
        inc_merch = _maximum(increments[c, 0, stand_type, at], -merch)
        inc_foliage = _maximum(increments[c, 1, stand_type, at], -foliage)
        inc_other = _maximum(increments[c, 2, stand_type, at], -other)
        ag_biomass = (merch + inc_merch + other + inc_other + foliage + inc_foliage) / 0.5
        biomass = 0.0
        if has[c]:
            if c == 0:
                biomass = roots[0, _SW_A] * ag_biomass
            else:
                biomass = roots[1, _HW_A] * math.pow(ag_biomass, roots[1, _HW_B])
        root_biomass = (biomass, root_biomass[1]) if c == 0 else (root_biomass[0], biomass)
        out[c, 0] = inc_merch
        out[c, 1] = inc_foliage
        out[c, 2] = inc_other
    stand_roots = root_biomass[0] + root_biomass[1]
    for c in range(2):
        fine_share = roots[c, _FRP_A] + roots[c, _FRP_B] * math.exp(roots[c, _FRP_C] * stand_roots)
        root_carbon = root_biomass[c] * 0.5
        out[c, 3] = root_carbon * (1 - fine_share) - v[_BIOMASS[c, 3]]
        out[c, 4] = root_carbon * fine_share - v[_BIOMASS[c, 4]]
        weight = 1.0 if has[c] else 0.0
        for part in range(5):
            out[c, part] *= weight


@_inline
def _put(sources: np.ndarray, sinks: np.ndarray, amounts: np.ndarray, k: int, source: int,
         sink: int, amount: float) -> int:
    sources[k] = source
    sinks[k] = sink
    amounts[k] = amount
    return k + 1


@_inline
def _half_growth(inc: np.ndarray, turnover: np.ndarray, sources: np.ndarray,
                 sinks: np.ndarray, amounts: np.ndarray) -> int:
    """processes._half_growth for one stand: its transfers into (sources, sinks, amounts);
    returns their number."""
    k = 0
    for c in range(2):
        r = turnover[c]
        overmature = inc[c, 0] + inc[c, 2] + inc[c, 1] + inc[c, 3] + inc[c, 4] < \
            _OVERMATURE_TOLERANCE
        for part in (0, 2, 1, 3, 4):  # GCBM's order: merch, other, foliage, coarse, fine
            pool = _BIOMASS[c, part]
            if overmature and inc[c, part] < 0:
                loss = -inc[c, part]
                if part == 0 or part == 1:  # all of it to one pool (share 1.0)
                    sink = _STEM_SNAG[c] if part == 0 else _AG_VFAST
                    k = _put(sources, sinks, amounts, k, pool, sink, loss * 1.0 / 2)
                    continue
                if part == 2:
                    first, second, split = _BRANCH_SNAG[c], _AG_FAST, r[_BRANCH_SPLIT]
                elif part == 3:
                    first, second, split = _AG_FAST, _BG_FAST, r[_COARSE_SPLIT]
                else:
                    first, second, split = _AG_VFAST, _BG_VFAST, r[_FINE_SPLIT]
                k = _put(sources, sinks, amounts, k, pool, first, loss * split / 2)
                k = _put(sources, sinks, amounts, k, pool, second, loss * (1 - split) / 2)
            else:
                k = _put(sources, sinks, amounts, k, _ATM, pool, inc[c, part] / 2)
    return k


@_inline
def _turnover(v: np.ndarray, snags: np.ndarray, turnover: np.ndarray,
              biomass: np.ndarray) -> None:
    """processes._turnover's three operations for one stand, applied: mid-season growth, snag
    turnover, biomass turnover, amounts from the biomass of `v` (copied into `biomass`) and
    the snags `snags` held before them."""
    for c in range(2):
        for part in range(5):
            biomass[c, part] = v[_BIOMASS[c, part]]
    for c in range(2):  # mid-season growth: merch, other, foliage, coarse, fine
        r = turnover[c]
        _move(v, _ATM, _BIOMASS[c, 0], biomass[c, 0] * r[_STEM])
        _move(v, _ATM, _BIOMASS[c, 2], biomass[c, 2] * r[_BRANCH])
        _move(v, _ATM, _BIOMASS[c, 1], biomass[c, 1] * r[_FOLIAGE])
        _move(v, _ATM, _BIOMASS[c, 3], biomass[c, 3] * r[_COARSE])
        _move(v, _ATM, _BIOMASS[c, 4], biomass[c, 4] * r[_FINE])
    for c in range(2):  # snags, softwood first
        r = turnover[c]
        _move(v, _STEM_SNAG[c], _MEDIUM, snags[2 * c] * r[_STEM_SNAG_RATE])
        _move(v, _BRANCH_SNAG[c], _AG_FAST, snags[2 * c + 1] * r[_BRANCH_SNAG_RATE])
    for c in range(2):  # biomass turnover
        r = turnover[c]
        merch, foliage, other, coarse, fine = (biomass[c, 0], biomass[c, 1], biomass[c, 2],
                                               biomass[c, 3], biomass[c, 4])
        split, coarse_split, fine_split = r[_BRANCH_SPLIT], r[_COARSE_SPLIT], r[_FINE_SPLIT]
        _move(v, _BIOMASS[c, 0], _STEM_SNAG[c], merch * r[_STEM])
        _move(v, _BIOMASS[c, 1], _AG_VFAST, foliage * r[_FOLIAGE])
        _move(v, _BIOMASS[c, 2], _BRANCH_SNAG[c], other * split * r[_BRANCH])
        _move(v, _BIOMASS[c, 2], _AG_FAST, other * (1 - split) * r[_BRANCH])
        _move(v, _BIOMASS[c, 3], _AG_FAST, coarse * coarse_split * r[_COARSE])
        _move(v, _BIOMASS[c, 3], _BG_FAST, coarse * (1 - coarse_split) * r[_COARSE])
        _move(v, _BIOMASS[c, 4], _AG_VFAST, fine * fine_split * r[_FINE])
        _move(v, _BIOMASS[c, 4], _BG_VFAST, fine * (1 - fine_split) * r[_FINE])


@_inline
def _decay(v: np.ndarray, dom: np.ndarray, slow: np.ndarray, mixing_rate: float,
           fluxes: np.ndarray) -> None:
    """processes.decay for one decaying stand: DOM decay, slow-pool decay, slow mixing."""
    for j in range(_DECAY_SOURCE.shape[0]):
        fluxes[2 * j] = v[_DECAY_SOURCE[j]] * dom[2 * j]
        fluxes[2 * j + 1] = v[_DECAY_SOURCE[j]] * dom[2 * j + 1]
    for j in range(_DECAY_SOURCE.shape[0]):
        _move(v, _DECAY_SOURCE[j], _DECAY_SINK[j], fluxes[2 * j])
        _move(v, _DECAY_SOURCE[j], _CO2, fluxes[2 * j + 1])
    above, below = v[_AG_SLOW] * slow[0], v[_BG_SLOW] * slow[1]
    _move(v, _AG_SLOW, _CO2, above)
    _move(v, _BG_SLOW, _CO2, below)
    _move(v, _AG_SLOW, _BG_SLOW, v[_AG_SLOW] * mixing_rate)


class _Scratch(NamedTuple):
    """A step's working arrays, allocated once per kernel call."""

    snags: np.ndarray  # (4,)
    increments: np.ndarray  # (2, 5)
    sources: np.ndarray  # (20,) int64: the half growth's transfers
    sinks: np.ndarray
    amounts: np.ndarray
    biomass: np.ndarray  # (2, 5)
    fluxes: np.ndarray  # (N_POOLS ** 2,): a proportional operation's amounts


@_jit
def _scratch() -> _Scratch:
    return _Scratch(np.empty(4), np.empty((2, 5)), np.empty(20, dtype=np.int64),
                    np.empty(20, dtype=np.int64), np.empty(20), np.empty((2, 5)),
                    np.empty(N_POOLS * N_POOLS))


@_inline
def _step(v: np.ndarray, age: int, stand_type: int, increments: np.ndarray, has: np.ndarray,
          roots: np.ndarray, turnover: np.ndarray, dom: np.ndarray, slow: np.ndarray,
          mixing_rate: float, scratch: _Scratch) -> None:
    """spinup._step for one growing, decaying stand: grow (no recorded fluxes), then decay."""
    snags = scratch.snags
    for c in range(2):
        snags[2 * c] = v[_STEM_SNAG[c]]
        snags[2 * c + 1] = v[_BRANCH_SNAG[c]]
    _increments(v, age, stand_type, increments, has, roots, scratch.increments)
    sources, sinks, amounts = scratch.sources, scratch.sinks, scratch.amounts
    k = _half_growth(scratch.increments, turnover, sources, sinks, amounts)
    for j in range(k):
        _move(v, sources[j], sinks[j], amounts[j])
    _turnover(v, snags, turnover, scratch.biomass)
    for j in range(k):  # the second half: the same amounts
        _move(v, sources[j], sinks[j], amounts[j])
    _decay(v, dom, slow, mixing_rate, scratch.fluxes)


@_inline
def _disturb(v: np.ndarray, start: int, end: int, matrix_sources: np.ndarray,
             matrix_sinks: np.ndarray, proportions: np.ndarray, fluxes: np.ndarray) -> None:
    """A proportional operation (a disturbance matrix's transfers start:end) for one stand."""
    for j in range(start, end):
        fluxes[j - start] = v[matrix_sources[j]] * proportions[j]
    for j in range(start, end):
        if matrix_sources[j] != matrix_sinks[j]:
            _move(v, matrix_sources[j], matrix_sinks[j], fluxes[j - start])


@_jit
def rotate(stand_type: np.ndarray, increments: np.ndarray, has: np.ndarray, roots: np.ndarray,
           turnover: np.ndarray, dom: np.ndarray, slow: np.ndarray, mixing_rate: float,
           return_interval: np.ndarray, max_rotations: np.ndarray, minimum_rotation: int,
           historic: np.ndarray, matrix_start: np.ndarray, matrix_sources: np.ndarray,
           matrix_sinks: np.ndarray, proportions: np.ndarray, out: np.ndarray) -> None:
    """spinup.rotate, a stand at a time. Per stand s: `has` (2, n), `roots` (2, 6, n),
    `turnover` (2, 10, n), `dom` (18, n), `slow` (2, n), `return_interval`, `max_rotations`,
    `historic` (its historic matrix, -1: none); matrices packed: matrix m's transfers are
    `matrix_start[m]:matrix_start[m + 1]`. Writes the pools (N_POOLS, n) into `out`."""
    v = np.zeros(N_POOLS)
    scratch = _scratch()
    for s in range(stand_type.shape[0]):
        v[:] = 0.0
        stand_has, stand_roots = has[:, s].copy(), roots[:, :, s].copy()
        stand_turnover, stand_dom, stand_slow = turnover[:, :, s].copy(), dom[:, s].copy(), \
            slow[:, s].copy()
        age, year, rotation, last_slow = 0, 0, 1, 0.0
        while True:
            _step(v, age, stand_type[s], increments, stand_has, stand_roots, stand_turnover,
                  stand_dom, stand_slow, mixing_rate, scratch)
            age += 1
            year += 1
            if year != return_interval[s]:
                continue
            slow_pools = v[_AG_SLOW] + v[_BG_SLOW]
            ratio = slow_pools / last_slow if last_slow != 0 else 0.0
            is_stable = _STABLE_LOW < ratio < _STABLE_HIGH
            last_slow = slow_pools
            if (is_stable and rotation > minimum_rotation) or rotation == max_rotations[s]:
                break
            m = historic[s]
            if m >= 0:
                _disturb(v, matrix_start[m], matrix_start[m + 1], matrix_sources, matrix_sinks,
                         proportions, scratch.fluxes)
            for c in range(2):
                for part in range(5):
                    v[_BIOMASS[c, part]] = 0.0
            age, year, rotation = 0, 0, rotation + 1
        out[:, s] = v


@_jit
def grow_to(pools: np.ndarray, target_age: np.ndarray, stand_type: np.ndarray,
            increments: np.ndarray, has: np.ndarray, roots: np.ndarray, turnover: np.ndarray,
            dom: np.ndarray, slow: np.ndarray, mixing_rate: float) -> None:
    """spinup._finish's growth from age 0 to each stand's inventory age: `target_age[s]` steps
    of stand s on its pools (N_POOLS, n), in place."""
    v = np.empty(N_POOLS)
    scratch = _scratch()
    for s in range(stand_type.shape[0]):
        v[:] = pools[:, s]
        stand_has, stand_roots = has[:, s].copy(), roots[:, :, s].copy()
        stand_turnover, stand_dom, stand_slow = turnover[:, :, s].copy(), dom[:, s].copy(), \
            slow[:, s].copy()
        for age in range(target_age[s]):
            _step(v, age, stand_type[s], increments, stand_has, stand_roots, stand_turnover,
                  stand_dom, stand_slow, mixing_rate, scratch)
        pools[:, s] = v


def libm_matches() -> bool:
    """Whether the compiled code's exp and pow are the C library's that Python's math calls
    (as flint/mathlib.py checks NumPy's): on a fixed sample of the arguments growth uses."""
    rng = np.random.default_rng(20261207)
    x = rng.uniform(-50.0, 5.0, 20_000)
    base, exponent = rng.uniform(0.0, 700.0, 20_000), rng.uniform(-3.0, 3.0, 20_000)
    compiled = _libm_sample(x, base, exponent)
    expected = np.fromiter((math.exp(a) + math.pow(b, e) for a, b, e in zip(x, base, exponent,
                                                                             strict=True)),
                           np.float64)
    return bool(np.array_equal(compiled, expected))


@_jit
def _libm_sample(x: np.ndarray, base: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = math.exp(x[i]) + math.pow(base[i], exponent[i])
    return out
