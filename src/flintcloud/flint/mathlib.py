"""Transcendental functions that agree bit for bit with the C library that produced FLINT's outputs."""

from __future__ import annotations

import math
import warnings

import numpy as np


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


def exp(x):
    """exp(x) for a scalar or array, bit-identical to glibc's exp (Python's math.exp)."""
    if np.ndim(x) == 0:
        return math.exp(float(x))
    if NUMPY_EXP_IS_LIBM:
        return np.exp(x)
    flat = np.asarray(x, dtype=np.float64).ravel()
    return np.fromiter(map(math.exp, flat), np.float64, count=flat.size).reshape(np.shape(x))
