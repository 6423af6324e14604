"""Unit tests of the GCBM kernels, each against an independent hand computation."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from flintcloud.flint.operations import OperationManager
from flintcloud.flint.timing import Timing
from flintcloud.gcbm.science import growth_curves as gc
from flintcloud.gcbm.science.parameters import (
    AgeClasses,
    AgeReset,
    DecayParameters,
    LandClasses,
    StandTypes,
    Transitions,
)
from flintcloud.gcbm.science.pools import DOM_POOLS, N_POOLS, Pool
from flintcloud.gcbm.science.processes import (
    DecayOperations,
    StandState,
    apply_transitions,
    decay,
    grow,
    update_land_class,
)


def test_annual_volumes_interpolates_on_regular_grid():
    volume = gc.annual_volumes(np.array([0, 10, 20]), np.array([0.0, 50.0, 100.0]))
    np.testing.assert_allclose(volume[[0, 5, 10, 15, 20]], [0, 25, 50, 75, 100])


def test_annual_volumes_zero_after_positive_carries_forward():
    # GCBM quirk §9.1: a tabulated 0 after a positive value is treated as missing
    volume = gc.annual_volumes(np.array([0, 10, 20, 30]), np.array([0.0, 40.0, 0.0, 80.0]))
    assert volume[20] == 40.0
    assert volume[25] == pytest.approx(60.0)


def test_annual_volumes_adds_equal_ages():
    volume = gc.annual_volumes(np.array([0, 10, 10]), np.array([0.0, 5.0, 7.0]))
    assert volume[10] == 12.0


def _params(**overrides):
    base = dict(a=0.5, b=1.0, a_nonmerch=0.0, b_nonmerch=0.0, k_nonmerch=1.0, cap_nonmerch=1.0,
                a_sap=0.0, b_sap=0.0, k_sap=1.0, cap_sap=1.0, a1=0, a2=0, a3=0, b1=0, b2=0, b3=0,
                c1=0, c2=0, c3=0, min_volume=0.0, max_volume=1e9, low_stemwood_prop=0.5,
                high_stemwood_prop=0.5, low_stembark_prop=0.1, high_stembark_prop=0.1,
                low_branches_prop=0.2, high_branches_prop=0.2, low_foliage_prop=0.2,
                high_foliage_prop=0.2, top_prop=0.0, stump_prop=0.0)
    base.update(overrides)
    return gc.VolumeToBiomassParameters(**base)


def test_boudewyn_by_hand():
    # V=100, a=0.5, b=1 -> merch biomass 50; no non-merch, no sapling; with exp(0)=1 model terms
    # the proportions are 1/4 each: total tree 200, bark 50, foliage 50.
    volumes = gc.stand_volumes(np.array([0.0, 100.0]), None)
    carbon = gc.boudewyn_carbon(volumes, _params(), gc.Component.SOFTWOOD)
    merch, foliage, other = carbon[:, 1]
    bark = 50.0
    assert merch == pytest.approx(0.5 * (50 + bark * 1.0))
    assert foliage == pytest.approx(0.5 * 50)
    assert other == pytest.approx(0.5 * (200 - 50 - 50 - bark))


def test_boudewyn_uses_stand_volume_and_component_share():
    # quirk §9.2: both components use the stand total volume, then take their volume share
    volumes = gc.stand_volumes(np.array([0.0, 30.0]), np.array([0.0, 70.0]))
    softwood = gc.boudewyn_carbon(volumes, _params(), gc.Component.SOFTWOOD)
    hardwood = gc.boudewyn_carbon(volumes, _params(), gc.Component.HARDWOOD)
    np.testing.assert_allclose(softwood[:, 1] / 0.3, hardwood[:, 1] / 0.7)
    np.testing.assert_allclose(softwood[:, 1] + hardwood[:, 1],
                               gc.boudewyn_carbon(gc.stand_volumes(np.array([0.0, 100.0]), None),
                                                  _params(), gc.Component.SOFTWOOD)[:, 1])


def test_weibull_fit_floors_parameters_in_place():
    """Pin the in-place floor (§5.4 iv): data that wants p1 < 0.7 ends exactly on the floor,
    and the final parameters are what the floored model function saw."""
    t = np.linspace(0, 1, 50)
    y = 1 - np.exp(-3.0 * t ** 0.4)
    params = gc.fit_weibull(t, y)
    assert params[1] == 0.7
    assert params[0] > 0
    untouched = gc.fit_weibull(t, 1 - np.exp(-2.0 * t ** 1.5))
    np.testing.assert_allclose(untouched, [2.0, 1.5], rtol=1e-6)


def _stand_types(increment=1.0, max_age=100):
    carbon = np.zeros((2, 3, max_age + 1))
    carbon[0] = np.arange(max_age + 1) * increment * np.array([[0.6], [0.1], [0.3]])
    curve = gc.CarbonCurve(carbon, np.array([True, False]), max_age)
    turnover = np.zeros((2, 10))
    turnover[:, :] = [0.05, 0.01, 0.03, 0.25, 0.032, 0.1, 0.5, 0.02, 0.5, 0.641]
    roots = np.array([[0.222, 1.576, 0.615, 0.072, 0.354, -0.06]] * 2)
    return StandTypes.build([1], [1], [curve], [turnover], [roots])


def _state(n=1, **kw):
    zeros = np.zeros(n, dtype=np.int64)
    fields = dict(age=zeros.copy(), regen_delay=zeros.copy(), stand_type=np.zeros(n, np.intp),
                  classifier_set=np.zeros(n, np.intp), spu=np.zeros(n, np.intp),
                  temperature_c=np.zeros(n), current_land_class=np.zeros(n, np.intp),
                  historic_land_class=np.zeros(n, np.intp), last_land_class=np.zeros(n, np.intp),
                  years_since_transition=zeros.copy(), is_forest=np.ones(n, bool),
                  is_decaying=np.ones(n, bool))
    fields.update(kw)
    return StandState(**fields)


def _ops(n=1):
    ops = OperationManager(n, Timing(datetime(2000, 1, 1), datetime(2001, 1, 1), "annual"))
    ops.values = np.zeros((N_POOLS, n))
    return ops


def test_growth_follows_curve_and_turnover_is_replaced():
    stand_types = _stand_types()
    ops, state = _ops(), _state()
    grow(ops, state, stand_types)
    # live above-ground biomass follows the yield curve exactly (turnover replaced, §5.5)
    assert ops.values[Pool.SOFTWOOD_MERCH, 0] == pytest.approx(0.6)
    assert ops.values[Pool.SOFTWOOD_FOLIAGE, 0] == pytest.approx(0.1)
    assert state.age[0] == 1
    # turnover reached DOM: foliage turnover of the post-half-growth foliage 0.05 * 0.05
    assert ops.values[Pool.ABOVE_GROUND_VERY_FAST_SOIL, 0] > 0.05 * 0.05
    np.testing.assert_allclose(ops.values.sum(axis=0), 0.0, atol=1e-12)


def test_regeneration_delay_freezes_growth_and_age():
    stand_types = _stand_types()
    ops, state = _ops(), _state(regen_delay=np.array([2]))
    grow(ops, state, stand_types)
    assert state.regen_delay[0] == 1
    assert state.age[0] == 0
    assert not ops.values.any()


def test_overmature_decline_sends_half_the_loss_to_dom_each_half():
    stand_types = _stand_types(increment=-1.0)
    ops = _ops()
    ops.values[Pool.SOFTWOOD_MERCH] = 60.0
    ops.values[Pool.SOFTWOOD_FOLIAGE] = 10.0
    ops.values[Pool.SOFTWOOD_OTHER] = 30.0
    ops.values[Pool.SOFTWOOD_COARSE_ROOTS] = 50.0  # above their targets: roots decline too
    ops.values[Pool.SOFTWOOD_FINE_ROOTS] = 50.0
    ops.values[Pool.ATMOSPHERE] = -200.0
    state = _state(age=np.array([50]))
    grow(ops, state, stand_types)
    assert ops.values[Pool.SOFTWOOD_MERCH, 0] == pytest.approx(60.0 - 0.6, rel=1e-12)
    # the decline (2 halves of 0.3) plus stem turnover of the post-half-growth merch
    assert ops.values[Pool.SOFTWOOD_STEM_SNAG, 0] == pytest.approx(0.6 + 59.7 * 0.01)
    np.testing.assert_allclose(ops.values.sum(axis=0), 0.0, atol=1e-9)


def _decay_params():
    return DecayParameters(np.array([int(p) for p in DOM_POOLS]), np.full(11, 0.1), np.full(11, 10.0),
                           np.full(11, 2.0), np.full(11, 0.8), np.full(11, 1.0), 0.006)


def test_decay_rate_formula():
    rates = _decay_params().rates(np.array([10.0, 20.0, 0.0]))
    np.testing.assert_allclose(rates[0], [0.1, 0.2, 0.05])


def test_warmer_decays_faster_and_conserves_mass():
    ops = _ops(2)
    ops.values[Pool.MEDIUM_SOIL] = 10.0
    ops.values[Pool.ATMOSPHERE] = -10.0
    rates = DecayOperations.build(_decay_params(), np.array([0.0, 10.0]))
    decay(ops, _state(2), rates)
    assert ops.values[Pool.MEDIUM_SOIL, 1] < ops.values[Pool.MEDIUM_SOIL, 0]
    assert ops.values[Pool.MEDIUM_SOIL, 1] == pytest.approx(9.0)
    # medium soil -> CO2 0.8, then the slow pool's decay of the 0.2 it just received
    assert ops.values[Pool.CO2, 1] == pytest.approx(0.8 + 0.2 * 0.1 * 0.8)
    np.testing.assert_allclose(ops.values.sum(axis=0), 0.0, atol=1e-12)


def test_transitions_absolute_relative_yield_and_regen_delay():
    stand_types = _stand_types()
    transitions = Transitions(ids=np.array([1, 2, 3]), reset_type=np.array([AgeReset.ABSOLUTE,
                              AgeReset.RELATIVE, AgeReset.YIELD], np.int8),
                              age=np.array([5, -30, 0]), regen_delay=np.array([3, 0, 0]),
                              classifier_set_after=np.array([[1, 1], [0, 1], [0, 1]]))
    pools = np.zeros((N_POOLS, 3))
    pools[Pool.SOFTWOOD_MERCH, 2] = 5.5  # above-ground carbon on the curve is `age`: first age >= 5.5 is 6
    state = _state(3, age=np.array([40, 20, 40]))
    apply_transitions(pools, state, np.array([0, 1, 2]), transitions, stand_types,
                      np.array([[0], [0]]))
    np.testing.assert_array_equal(state.age, [5, 0, 6])
    np.testing.assert_array_equal(state.regen_delay, [3, 0, 0])
    np.testing.assert_array_equal(state.classifier_set, [1, 0, 0])


def test_land_class_change_sets_forest_flag_and_flips_after_years_to_permanent():
    classes = LandClasses(("FL", "CL"), np.array([True, False]), np.array([20, 2]))
    state = _state(1)
    state.current_land_class[:] = 1  # a deforestation event set it
    update_land_class(state, classes)
    assert not state.is_forest[0] and state.historic_land_class[0] == 0
    for _ in range(3):
        update_land_class(state, classes)
    assert state.historic_land_class[0] == 1  # CL_R_CL after years_to_permanent


def test_age_classes_match_gcbm_helper():
    classes = AgeClasses(20, 300)
    np.testing.assert_array_equal(classes.classify(np.array([-1, 0, 19, 20, 299, 300, 500])),
                                  [0, 1, 1, 2, 15, 16, 16])
    assert classes.bounds()[15] == (280, 299) and classes.bounds()[16] == (300, -1)


def test_mixed_stand_grows_both_components_with_shared_fine_root_share():
    carbon = np.zeros((2, 3, 101))
    carbon[:, :] = np.arange(101) * 0.5
    curve = gc.CarbonCurve(carbon, np.array([True, True]), 100)
    turnover = np.zeros((2, 10))
    roots = np.array([[0.222, 1.576, 0.615, 0.072, 0.354, -0.06]] * 2)
    stand_types = StandTypes.build([1], [1], [curve], [turnover], [roots])
    ops, state = _ops(), _state()
    grow(ops, state, stand_types)
    sw_ag = 1.5
    hw_ag = 1.5
    sw_root = 0.222 * sw_ag / 0.5
    hw_root = 1.576 * (hw_ag / 0.5) ** 0.615
    fine = 0.072 + 0.354 * np.exp(-0.06 * (sw_root + hw_root))
    assert ops.values[Pool.SOFTWOOD_FINE_ROOTS, 0] == pytest.approx(0.5 * sw_root * fine)
    assert ops.values[Pool.HARDWOOD_FINE_ROOTS, 0] == pytest.approx(0.5 * hw_root * fine)
    assert ops.values[Pool.HARDWOOD_MERCH, 0] == pytest.approx(0.5)
