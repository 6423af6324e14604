"""Transcendental functions that agree bit for bit with the C library that produced FLINT's outputs."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray


def _numpy_exp_matches_libm() -> bool:
    # A fixed sample on which NumPy's AVX-512 exp is known to differ from glibc's in the last bit.
    sample = np.random.default_rng(20260101).uniform(-50.0, 5.0, 20_000)
    return bool(np.array_equal(np.exp(sample), np.fromiter(map(math.exp, sample), np.float64)))


NUMPY_EXP_IS_LIBM = _numpy_exp_matches_libm()
if not NUMPY_EXP_IS_LIBM:
    warnings.warn(
        "numpy.exp differs from the C library's exp on this machine (AVX-512 code path); "
        "flintcloud falls back to an exact but slower exp. Set NPY_DISABLE_CPU_FEATURES="
        "'X86_V4 AVX512_ICL AVX512_SPR' before importing numpy for full speed.",
        RuntimeWarning,
        stacklevel=2,
    )


@overload
def exp(x: float) -> float: ...
@overload
def exp(x: NDArray[Any]) -> NDArray[np.float64]: ...
def exp(x: float | NDArray[Any]) -> float | NDArray[np.float64]:
    """exp(x) for a scalar or array, bit-identical to glibc's exp (Python's math.exp).
    A 0-d array gives a float."""
    if np.ndim(x) == 0:
        return math.exp(float(x))
    if NUMPY_EXP_IS_LIBM:
        return np.exp(x)
    flat = np.asarray(x, dtype=np.float64).ravel()
    return np.fromiter(map(math.exp, flat), np.float64, count=flat.size).reshape(np.shape(x))


def _elementwise(scalar_fn: Callable[..., float], numpy_fn: Callable[..., Any],
                 *args: float | NDArray[Any]) -> float | NDArray[np.float64]:
    """`scalar_fn` (a C-library call via `math`) over broadcast arrays. Where `math` raises
    instead of returning C's inf or NaN (pole, domain error, overflow), NumPy supplies that
    special value, which IEEE 754 fixes exactly."""
    def one(*values: float) -> float:
        try:
            return scalar_fn(*values)
        except (ValueError, OverflowError):
            with np.errstate(all="ignore"):
                return float(numpy_fn(*values))

    if all(np.ndim(a) == 0 for a in args):
        return one(*(float(a) for a in args))
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))
    flat = [a.ravel() for a in arrays]
    values = map(one, *(map(float, f) for f in flat))
    return np.fromiter(values, np.float64, count=flat[0].size).reshape(arrays[0].shape)


def _numpy_power_and_log_match_libm() -> bool:
    rng = np.random.default_rng(20260102)
    base, exponent = rng.uniform(0.0, 700.0, 20_000), rng.uniform(-3.0, 3.0, 20_000)
    logs = rng.uniform(1e-3, 1e3, 20_000)
    return bool(np.array_equal(np.power(base, exponent),
                               np.fromiter(map(math.pow, base, exponent), np.float64))
                and np.array_equal(np.log(logs), np.fromiter(map(math.log, logs), np.float64)))


NUMPY_POWER_AND_LOG_ARE_LIBM = _numpy_power_and_log_match_libm()


@overload
def power(x: float, y: float) -> float: ...
@overload
def power(x: NDArray[Any], y: float | NDArray[Any]) -> NDArray[np.float64]: ...
@overload
def power(x: float | NDArray[Any], y: NDArray[Any]) -> NDArray[np.float64]: ...
def power(x: float | NDArray[Any], y: float | NDArray[Any]) -> float | NDArray[np.float64]:
    """x**y for scalars or arrays, bit-identical to the C library's pow; like C, it returns
    inf or NaN (0 to a negative power, negative base) without warning."""
    if NUMPY_POWER_AND_LOG_ARE_LIBM and not all(np.ndim(a) == 0 for a in (x, y)):
        with np.errstate(all="ignore"):
            return np.power(x, y)
    return _elementwise(math.pow, np.power, x, y)


@overload
def log(x: float) -> float: ...
@overload
def log(x: NDArray[Any]) -> NDArray[np.float64]: ...
def log(x: float | NDArray[Any]) -> float | NDArray[np.float64]:
    """Natural logarithm for a scalar or array, bit-identical to the C library's log; -inf at 0
    and NaN below, without warning."""
    if NUMPY_POWER_AND_LOG_ARE_LIBM and np.ndim(x) != 0:
        with np.errstate(all="ignore"):
            return np.log(x)
    return _elementwise(math.log, np.log, x)
