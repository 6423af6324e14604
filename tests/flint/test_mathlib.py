"""flintcloud.flint.mathlib: transcendental functions bit-identical to the C library's."""

from __future__ import annotations

import math

import numpy as np

from flintcloud.flint import mathlib


def test_power_and_log_are_the_c_librarys():
    rng = np.random.default_rng(7)
    base, exponent = rng.uniform(0.0, 700.0, 5_000), rng.uniform(-3.0, 3.0, 5_000)
    expected = np.array([math.pow(b, e) for b, e in zip(base, exponent, strict=True)])
    assert np.array_equal(mathlib.power(base, exponent), expected)
    assert np.array_equal(mathlib.power(base, 0.37), [math.pow(b, 0.37) for b in base])
    assert mathlib.power(2.5, 1.3) == math.pow(2.5, 1.3)
    assert np.array_equal(mathlib.log(base + 5.0), [math.log(b + 5.0) for b in base])


def test_power_and_log_give_c_special_values_where_math_raises():
    assert mathlib.power(0.0, -0.5) == math.inf
    assert math.isnan(mathlib.power(-1.0, 0.5))
    np.testing.assert_array_equal(mathlib.power(np.array([0.0, 4.0]), -0.5), [math.inf, 0.5])
    np.testing.assert_array_equal(mathlib.log(np.array([0.0, 1.0])), [-math.inf, 0.0])
    assert math.isnan(mathlib.log(-1.0))
