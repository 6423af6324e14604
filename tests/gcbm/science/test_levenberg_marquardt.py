"""The smoother's Levenberg–Marquardt fit (gcbm-spec §5.4 iv): the solver on its own, then the
Weibull fit against GCBM's `lmmin` and its C++ tests."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flintcloud.gcbm.science import growth_curves as gc
from flintcloud.gcbm.science.levenberg_marquardt import enorm, minimize

# Sample ages of moja.canada's smoothertests.cpp: substitution age 18, 49 ages after it, divided
# by the largest (67); index 0 is (0, 0).
CPP_TEST_T = [0.0] + [(18 + i) / 67 for i in range(1, 50)]
# Its normalised softwood merch and foliage carbon samples (swWorkingMerchC, swWorkingFoliageC).
CPP_TEST_SW_MERCH = [
    0.000000, 0.0922399, 0.101266, 0.119018, 0.136428, 0.153552, 0.170428, 0.187088, 0.213770,
    0.240139, 0.266197, 0.2919610, 0.317454, 0.356967, 0.395930, 0.434399, 0.472422, 0.510040,
    0.558078, 0.605552, 0.652516, 0.6990130, 0.745081, 0.777643, 0.810013, 0.842201, 0.874214,
    0.906060, 0.922383, 0.938667, 0.954912, 0.9711200, 0.987291, 0.989828, 0.992368, 0.994910,
    0.997454, 1.000000, 0.999752, 0.999615, 0.999599, 0.9996000, 0.999617, 0.998973, 0.998333,
    0.997697, 0.997066, 0.996439, 0.996342, 0.996246]
CPP_TEST_SW_FOLIAGE = [
    0.000000, 0.7890230, 0.798032, 0.814694, 0.830013, 0.844331, 0.857858, 0.870735, 0.832640,
    0.812836, 0.802744, 0.7982890, 0.797304, 0.799276, 0.804291, 0.810881, 0.818236, 0.825881,
    0.842600, 0.857922, 0.871945, 0.8847560, 0.896434, 0.903342, 0.909785, 0.919882, 0.936543,
    0.952343, 0.962266, 0.971989, 0.981517, 0.9908530, 1.000000, 0.998292, 0.996596, 0.994910,
    0.993236, 0.991571, 0.984473, 0.980762, 0.980746, 0.9807470, 0.980764, 0.980132, 0.979504,
    0.978881, 0.978261, 0.977646, 0.977551, 0.977457]

T_49THS = [i / 49 for i in range(50)]


def test_enorm_neither_overflows_nor_underflows():
    assert enorm([3.0, 4.0]) == 5.0
    assert enorm([3e-200, 4e-200]) == pytest.approx(5e-200, rel=1e-15)  # squares underflow
    assert enorm([3e200, 4e200]) == pytest.approx(5e200, rel=1e-15)  # squares overflow
    assert enorm([1e-170, 1.0, 0.0]) == 1.0
    assert enorm([]) == 0.0


def test_minimize_solves_linear_least_squares():
    t = np.linspace(0.0, 1.0, 20)
    y = 2.0 + 3.0 * t + 0.01 * np.sin(7.0 * t)
    design = np.stack([np.ones_like(t), t], axis=1)
    expected = np.linalg.lstsq(design, y, rcond=None)[0]

    fit = minimize(lambda p: [y_i - (p[0] + p[1] * t_i) for t_i, y_i in zip(t, y, strict=True)],
                   (0.0, 0.0))
    np.testing.assert_allclose(fit.params, expected, rtol=1e-10)
    assert fit.info in (1, 2, 3)
    assert fit.residual_norm == pytest.approx(np.linalg.norm(y - design @ expected), rel=1e-8)


def test_minimize_finds_rosenbrock_minimum():
    # MINPACK's classic test: residuals (10 (x1 - x0^2), 1 - x0), minimum 0 at (1, 1)
    fit = minimize(lambda p: [10.0 * (p[1] - p[0] * p[0]), 1.0 - p[0]], (-1.2, 1.0))
    np.testing.assert_allclose(fit.params, [1.0, 1.0], rtol=1e-12)
    assert fit.residual_norm < 1e-12


def test_minimize_stops_at_the_evaluation_limit():
    # limit = max_calls * (n + 1) = 3, checked after each trial step: the start, two Jacobian
    # columns and one trial make 4 calls
    fit = minimize(lambda p: [10.0 * (p[1] - p[0] * p[0]), 1.0 - p[0]], (-1.2, 1.0), max_calls=1)
    assert (fit.info, fit.n_evaluations) == (5, 4)


def test_minimize_carries_on_from_parameters_changed_in_place():
    # the callback keeps p0 >= 5 in the solver's own list; the unconstrained optimum is p0 = 3
    seen = []

    def residuals(params):
        params[0] = max(params[0], 5.0)
        seen.append(params[0])
        return [params[0] - 3.0, params[1] - 1.0]

    fit = minimize(residuals, (10.0, 0.0))
    assert fit.params[0] == 5.0
    assert fit.params[1] == pytest.approx(1.0, rel=1e-8)
    assert min(seen) == 5.0


@pytest.mark.parametrize("t, y, expected", [
    # CPP_TEST data (decimal literals, so the same bits everywhere)
    (CPP_TEST_T, CPP_TEST_SW_MERCH, ("0x1.6d02658f4f2d8p+3", "0x1.09d7ed497f059p+2", 1, 34)),
    (CPP_TEST_T, CPP_TEST_SW_FOLIAGE, ("0x1.d504758e6d537p+1", "0x1.8b3a5a5f9e28dp-1", 1, 40)),
    # sampled at i/49, built with IEEE-exact operations only
    (T_49THS, [v * v * (3.0 - 2.0 * v) for v in T_49THS], ("0x1.cd4a758caf785p+1", "0x1.288c0ae1836dap+1", 1, 31)),
    (T_49THS, [min(1.0, 1.5 * v) for v in T_49THS], ("0x1.446afb98b9d18p+2", "0x1.ba3f71505ce03p+0", 1, 40)),
    # wants p1 < 0.7: ends on the floor
    (T_49THS, [math.sqrt(math.sqrt(v)) for v in T_49THS], ("0x1.70b8f0c55eba1p+1", "0x1.6666666666666p-1", 2, 145)),
    # nothing to fit: runs to the call limit and keeps the floored start
    (T_49THS, [math.nan] * 50, ("0x1.0000000000000p+0", "0x1.6666666666666p-1", 5, 3001)),
], ids=["cpp-sw-merch", "cpp-sw-foliage", "smoothstep", "ramp", "p1-floor", "nan"])
def test_weibull_fit_matches_gcbm_lmmin_bit_for_bit(t, y, expected):
    """Expected values are the output of moja.canada's own lmmin.cpp (g++ 12 -O2 (same at -O0
    and -O3), x86-64, glibc 2.36) called as Smoother::minimize calls it, with a model callback
    equal to Smoother::weibull_2Parameter: parameters as hex floats, lmmin's info and
    evaluation count. The C library's pow and exp take part, so this pins glibc results."""
    fit = minimize(gc.weibull_residuals(t, y), (1.0, 0.1))
    p0, p1, info, n_evaluations = expected
    assert fit.params == (float.fromhex(p0), float.fromhex(p1))
    assert (fit.info, fit.n_evaluations) == (info, n_evaluations)


def test_weibull_fit_meets_gcbm_smoother_test_expectations():
    """smoothertests.cpp (MinimizeSW) expects these parameters to within 0.001 % (its
    BOOST_CHECK_CLOSE tolerance), printed to 6 digits."""
    np.testing.assert_allclose(gc.fit_weibull(np.array(CPP_TEST_T), np.array(CPP_TEST_SW_MERCH)),
                               [11.4066, 4.15381], rtol=1e-5)
    np.testing.assert_allclose(gc.fit_weibull(np.array(CPP_TEST_T), np.array(CPP_TEST_SW_FOLIAGE)),
                               [3.6642, 0.771931], rtol=1e-5)


def test_weibull_floor_must_act_in_the_solvers_array():
    """Quirk §9.3: with the floors applied to a copy, the solver never leaves p1 = 0.1 (the
    model does not depend on p1 below 0.7) and lands elsewhere."""
    y = [math.sqrt(math.sqrt(v)) for v in T_49THS]
    in_place = minimize(gc.weibull_residuals(T_49THS, y), (1.0, 0.1))
    on_copy = minimize(lambda p: gc.weibull_residuals(T_49THS, y)(list(p)), (1.0, 0.1))
    assert in_place.params[1] == 0.7
    assert on_copy.params[1] == 0.1
    assert abs(on_copy.params[0] - in_place.params[0]) > 0.1


def test_weibull_fit_caps_p1_only_with_p0():
    """After the fit, p0 > 150 becomes 150 and only then p1 > 5 becomes 5."""
    step = [1.0 if v > 0.5 else 0.0 for v in T_49THS]  # an ever sharper step: p0, p1 grow
    raw = minimize(gc.weibull_residuals(T_49THS, step), (1.0, 0.1))
    assert raw.params[0] > 150 and raw.params[1] > 5
    assert gc.fit_weibull(np.array(T_49THS), np.array(step)).tolist() == [150.0, 5.0]

    late = [(v * v) * (v * v) * ((v * v) * (v * v)) for v in T_49THS]  # t^8: p1 > 5, p0 small
    params = gc.fit_weibull(np.array(T_49THS), np.array(late))
    assert params[0] < 150 and params[1] > 5
