"""The listener's ordering comparator, Poco's comparison semantics and the growth-multiplier
series, on hand-worked cases (moja.canada cbmdisturbancelistener.*, growthmultipliermodule.*)."""

from __future__ import annotations

import numpy as np
import pytest

from flintcloud.errors import InputError
from flintcloud.gcbm.science.conditions import Op, compare, poco_string
from flintcloud.gcbm.science.multipliers import GrowthMultipliers, MultiplierState, advance, attach
from flintcloud.gcbm.science.ordering import event_ranks, initial_order

TYPES = ("Wildfire", "Clearcut", "Insects")


def test_ordering_sorts_listed_types_and_keeps_layer_order_without_one():
    year = np.array([[2011, 2011], [2011, 2012]])  # 2 event slots (layers) x 2 land units
    kind = np.array([[0, 0], [1, 1]])
    order = initial_order(["Clearcut", "Wildfire"], [])
    np.testing.assert_array_equal(event_ranks(year, kind, TYPES, order), [[1, 0], [0, 0]])
    np.testing.assert_array_equal(event_ranks(year, kind, TYPES, {}), [[0, 0], [1, 0]])


def test_ordering_unlisted_type_sorts_first_once_the_comparator_inserted_it():
    """order[b] inserts 0 for an unlisted b: land unit 0 has Clearcut then Insects (no insert,
    layer order kept), land unit 1 Insects then Clearcut (Insects inserted, order kept), so land
    unit 2, like land unit 0, now gets Insects first."""
    year = np.full((2, 3), 2011)
    kind = np.array([[1, 2, 1], [2, 1, 2]])
    ranks = event_ranks(year, kind, TYPES, initial_order(["Clearcut"], ["Wildfire"]))
    np.testing.assert_array_equal(ranks, [[0, 0, 1], [1, 1, 0]])


def test_ordering_default_types_follow_user_types():
    assert initial_order(["B"], ["A", "B", "C"]) == {"B": 1, "A": 2, "C": 3}


@pytest.mark.parametrize("value, op, target, expected", [
    (152, Op.AT_LEAST, 100, True),
    (32, Op.AT_LEAST, 100, False),
    (99, Op.LESS_THAN, 99.9, False),  # the target is truncated to Int64
    (1.0, Op.LESS_THAN, 1.5, False),  # a double difference is truncated to int
    (0.2, Op.LESS_THAN, 1.5, True),
    (100, Op.EQUAL_TO, 100.0, True),  # "100" == "100"
    (100, Op.EQUAL_TO, "100", True),
    (50, Op.BETWEEN, (10, 100), False),  # "50" <= "100" is false: strings
    ("JP", Op.IN, ("BS", "JP"), True),
    ("in", Op.IN, ("in", "JP"), True),  # the list's first element counts too
    ("JP", Op.NOT_IN, ("!=", "JP"), False),
    (True, Op.EQUAL_TO, "true", True),
])
def test_conditions_compare_as_poco_var(value, op, target, expected):
    assert compare(value, op, target, "test") is expected


def test_conditions_refuse_arithmetic_on_text():
    with pytest.raises(InputError, match="numeric variable"):
        compare("JP", Op.LESS_THAN, 3, "modules_cbm.json")


@pytest.mark.parametrize("value, text", [(100.0, "100"), (0.5, "0.5"), (1e20, "1e+20"),
                                         (1.5e-16, "1.5e-16"), (-0.0, "0"), (123456.0, "123456")])
def test_doubles_are_written_as_poco_writes_them(value, text):
    assert poco_string(value) == text


def test_multipliers_advance_all_series_and_end_with_the_longest():
    table = GrowthMultipliers.build(3, {1: {"Softwood": {3: 0.7, 1: 0.05, 2: 0.4},
                                            "Hardwood": {5: 0.5}}}, same_step=True)
    state = MultiplierState.cleared(2)
    attach(state, table, np.array([True, True]), np.array([1, 0]))
    seen = []
    for _ in range(4):
        advance(state, table)
        seen.append(state.current.copy())
    np.testing.assert_array_equal([s[:, 0] for s in seen],
                                  [[0.05, 0.5], [0.4, 1.0], [0.7, 1.0], [1.0, 1.0]])
    np.testing.assert_array_equal([s[:, 1] for s in seen], [[1.0, 1.0]] * 4)


def test_multipliers_another_disturbance_clears_the_set():
    table = GrowthMultipliers.build(2, {1: {"Hardwood": {1: 0.05, 2: 0.25, 3: 0.5}}},
                                    same_step=True)
    state = MultiplierState.cleared(1)
    attach(state, table, np.array([True]), np.array([1]))
    advance(state, table)
    assert state.current[1, 0] == 0.05
    attach(state, table, np.array([True]), np.array([0]))  # a fire: no series
    advance(state, table)
    np.testing.assert_array_equal(state.current[:, 0], [1.0, 1.0])
