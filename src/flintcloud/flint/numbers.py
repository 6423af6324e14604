"""FLINT's floating-point comparisons and C++ ostream number formatting."""

from __future__ import annotations

from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

# FloatCmp::equalTo(x, 0.0) is googletest's AlmostEquals with 4 ULPs: |x| within 4 denormal steps.
_ZERO_ULPS = float(np.array([4], dtype=np.uint64).view(np.float64)[0])


@overload
def is_zero(x: float) -> np.bool_: ...
@overload
def is_zero(x: NDArray[Any]) -> NDArray[np.bool_]: ...
def is_zero(x: float | NDArray[Any]) -> np.bool_ | NDArray[np.bool_]:
    """FloatCmp::equalTo(x, 0.0) for a scalar or an array (NaN is never zero)."""
    return np.abs(x) <= _ZERO_ULPS


@overload
def is_negative(x: float) -> bool: ...
@overload
def is_negative(x: NDArray[Any]) -> NDArray[np.bool_]: ...
def is_negative(x: float | NDArray[Any]) -> bool | NDArray[np.bool_]:
    """FloatCmp::lessThan(x, 0.0): negative and not within 4 ULPs of zero."""
    return x < -_ZERO_ULPS


def format_number(value: float, precision: int = 15) -> str:
    """A double as C++ ostream prints it with setprecision(p) and the default float field (%.pg)."""
    text = f"{value:.{precision}g}"
    if text in ("nan", "-nan"):
        return "-nan" if np.signbit(value) else "nan"
    return text


def _signed_magnitude(x: float) -> int:
    bits = int(np.array([x], dtype=np.float64).view(np.int64)[0])
    magnitude = bits & 0x7FFF_FFFF_FFFF_FFFF
    return -magnitude if bits < 0 else magnitude


def almost_equal(a: float, b: float) -> bool:
    """FloatCmp::equalTo for two scalars: at most 4 ULPs apart, NaN never equal, +0 == -0."""
    if a != a or b != b:
        return False
    return abs(_signed_magnitude(a) - _signed_magnitude(b)) <= 4
