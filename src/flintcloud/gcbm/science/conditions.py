"""Disturbance conditions as CBMDisturbanceListener checks them (moja.canada 46e1baa8
cbmdisturbancelistener.cpp/.h): per-event `conditions` from a layer's attribute table, and the
listener's `conditions` setting (match, run and override conditions, pool sums, disturbance
sequences).

Values are compared as GCBM compares them, through Poco's `Dynamic::Var`, not as Python does:
- `==`, the "in" lists and "<->" (between) compare the two values' *strings* (`Var::operator==`,
  `>=`, `<=` on two Vars), so "<->" on a number is lexicographic ("50" <= "100" is false), a
  double is written shortest without a trailing ".0" (100.0 -> "100"), a bool as "true";
- `<` and `>=` are `value - target < 0` / `>= 0`: an integer variable subtracts the target
  converted to Int64 (a double target is truncated), a double variable subtracts it as a double
  and the difference is truncated to int before the comparison (so 1.0 < 1.5 is false), a text
  variable throws (here: an InputError naming the condition);
- pool sums are doubles compared with the target as a double; "in"/"!=" on pools never hold;
- an "in"/"!=" list is the whole configured list, its first element included.
Evaluation is vectorised: a variable's values are few (an age, a classifier value, a land class)
and the Poco rules run once per distinct value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from typing import Any

import numpy as np

from flintcloud.errors import InputError


class Op(IntEnum):
    """DisturbanceConditionType."""

    LESS_THAN = 0
    EQUAL_TO = 1
    AT_LEAST = 2
    BETWEEN = 3
    IN = 4
    NOT_IN = 5


@dataclass(frozen=True)
class VariableTest:
    """VariableDisturbanceSubCondition: a variable, or a classifier of the live set."""

    name: str
    op: Op
    target: Any  # a JSON value; a list for BETWEEN (2 values), IN and NOT_IN


@dataclass(frozen=True)
class PoolTest:
    """PoolDisturbanceSubCondition: the sum of pools ("A + B"), in the order given."""

    pools: tuple[int, ...]
    op: Op
    target: Any


@dataclass(frozen=True)
class SequenceItem:
    type_name: str  # a disturbance type, "any" or "none"
    max_years_ago: int  # -1: no limit
    age_op: Op
    age_target: Any  # a value, or two for BETWEEN


@dataclass(frozen=True)
class SequenceTest:
    """DisturbanceSequenceSubCondition over the land unit's disturbance history."""

    items: tuple[SequenceItem, ...]


Test = VariableTest | PoolTest | SequenceTest
Conjunction = tuple[Test, ...]  # all must hold (CompositeDisturbanceSubCondition)


@dataclass(frozen=True)
class ListenerCondition:
    """One entry of CBMDisturbanceListener.settings.conditions."""

    type_idx: tuple[int, ...]  # the disturbance types it applies to (unknown names left out)
    match: Conjunction
    run: tuple[Conjunction, ...]
    override: tuple[Conjunction, ...]
    override_type_idx: int = -1  # -1: none
    where: str = "CBMDisturbanceListener.settings.conditions"


@dataclass(frozen=True)
class DisturbanceRules:
    """What the listener checks besides the matrices, and the values its conditions read that
    are not land-unit state: constants, the spatial units' variables and the classifier sets
    of the batch (set per batch)."""

    event_conditions: tuple[Conjunction, ...] = ()  # per-event conditions by index
    event_where: tuple[str, ...] = ()  # where each was configured, for messages
    listener: tuple[ListenerCondition, ...] = ()
    classifier_names: tuple[str, ...] = ()
    classifier_sets: tuple[tuple[str, ...], ...] = ()
    constants: dict[str, Any] = field(default_factory=dict)
    spu_values: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # name -> per spu idx
    land_class_codes: tuple[str, ...] = ()

    @property
    def uses_history(self) -> bool:
        tests = [t for c in self.listener for conj in (c.match, *c.run, *c.override) for t in conj]
        tests += [t for conj in self.event_conditions for t in conj]
        return any(isinstance(t, SequenceTest) for t in tests)


# -- Poco::Dynamic::Var conversions ---------------------------------------------------------
def poco_string(value: Any) -> str:
    """Var::convert<std::string>()."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _shortest(float(value))
    if value is None:
        return ""
    return str(value)


def _shortest(value: float) -> str:
    """double-conversion ToShortest as Poco's doubleToStr sets it up: decimal notation for
    decimal exponents in [-15, 15), else "1.5e+20"; no trailing ".0"; -0 -> "0"."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    assert isinstance(exponent, int)
    point = len(text) + exponent  # the decimal point's position after the first digit
    minus = "-" if sign else ""
    if -15 <= point - 1 < 15:
        if point <= 0:
            return f"{minus}0.{'0' * -point}{text}"
        if point >= len(text):
            return f"{minus}{text}{'0' * (point - len(text))}"
        return f"{minus}{text[:point]}.{text[point:]}"
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    power = point - 1
    return f"{minus}{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"


def poco_int(value: Any, where: str) -> int:
    """Var::convert<Int64>(): doubles truncated, text parsed as an integer."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            raise InputError(f"{value!r} is not a whole number", source=where)
        return math.trunc(float(value))
    try:
        return int(str(value).strip())
    except ValueError:
        raise InputError(f"{value!r} is not a whole number (GCBM fails on it)",
                         source=where) from None


def poco_float(value: Any, where: str) -> float:
    """Var::convert<double>()."""
    if isinstance(value, bool | int | float | np.integer | np.floating):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        raise InputError(f"{value!r} is not a number (GCBM fails on it)", source=where) from None


def compare(value: Any, op: Op, target: Any, where: str) -> bool:
    """VariableDisturbanceSubCondition::check for one value of the variable."""
    if op in (Op.LESS_THAN, Op.AT_LEAST):
        if isinstance(value, bool) or not isinstance(
                value, int | float | np.integer | np.floating):
            raise InputError(f"{op.name.lower()} needs a numeric variable, got {value!r} (GCBM "
                             "throws 'Invalid operation for this data type')", source=where)
        if isinstance(value, int | np.integer):
            difference: float = int(value) - poco_int(target, where)
        else:  # Var(double) - target, then Var(double) < 0 converts the difference to int
            difference = math.trunc(float(value) - poco_float(target, where))
        return difference < 0 if op == Op.LESS_THAN else difference >= 0
    text = poco_string(value)
    if op == Op.EQUAL_TO:
        return text == poco_string(target)
    if op == Op.BETWEEN:
        return text >= poco_string(target[0]) and text <= poco_string(target[1])
    found = any(text == poco_string(item) for item in target)
    return found if op == Op.IN else not found


def compare_pools(total: np.ndarray, op: Op, target: Any, where: str) -> np.ndarray:
    """PoolDisturbanceSubCondition::check: a double sum against the target as a double."""
    return _compare_numbers(total, op, target, lambda value: poco_float(value, where))


def _compare_age(age: np.ndarray, op: Op, target: Any, where: str) -> np.ndarray:
    """The history's int age against a Var (converted to int: doubles truncated)."""
    return _compare_numbers(age, op, target, lambda value: poco_int(value, where))


def _compare_numbers(values: np.ndarray, op: Op, target: Any,
                     convert: Callable[[Any], float | int]) -> np.ndarray:
    """`values` against a target converted as GCBM converts it (<, >= by the difference's sign,
    as its sub-conditions do); an operator numbers do not support matches nothing."""
    if op == Op.LESS_THAN:
        return np.asarray(values - convert(target) < 0)
    if op == Op.AT_LEAST:
        return np.asarray(values - convert(target) >= 0)
    if op == Op.EQUAL_TO:
        return np.asarray(values == convert(target))
    if op == Op.BETWEEN:
        return np.asarray((values >= convert(target[0])) & (values <= convert(target[1])))
    return np.zeros(values.shape, dtype=bool)


# -- land-unit values ------------------------------------------------------------------------
@dataclass
class History:
    """The disturbances fired on each land unit, oldest first: (max_events, n) arrays."""

    type_idx: np.ndarray  # intp
    year: np.ndarray  # int64
    age: np.ndarray  # int64 age when the listener saw the event (before its matrix)
    count: np.ndarray  # (n,) int64

    @classmethod
    def empty(cls, n: int, capacity: int) -> History:
        return cls(np.full((capacity, n), -1, dtype=np.intp),
                   np.zeros((capacity, n), dtype=np.int64),
                   np.zeros((capacity, n), dtype=np.int64), np.zeros(n, dtype=np.int64))

    def record(self, fired: np.ndarray, type_idx: np.ndarray, year: int, age: np.ndarray) -> None:
        rows = np.flatnonzero(fired)
        if rows.size == 0:
            return
        slot = self.count[rows]
        if int(slot.max()) >= self.type_idx.shape[0]:  # more events than planned: grow
            grow = int(slot.max()) + 1 - self.type_idx.shape[0]
            self.type_idx = np.pad(self.type_idx, ((0, grow), (0, 0)), constant_values=-1)
            self.year = np.pad(self.year, ((0, grow), (0, 0)))
            self.age = np.pad(self.age, ((0, grow), (0, 0)))
        self.type_idx[slot, rows] = type_idx[rows]
        self.year[slot, rows] = year
        self.age[slot, rows] = age[rows]
        self.count[rows] += 1


@dataclass
class LandUnits:
    """What a condition may read of the land units at the moment it is checked."""

    pools: np.ndarray  # (n_pools, n) float64
    variables: dict[str, tuple[np.ndarray, Callable[[int], Any]]]  # name -> (codes, decode)
    type_names: Sequence[str]
    year: int
    history: History | None = None

    @property
    def n(self) -> int:
        return int(self.pools.shape[1])


def holds(conjunction: Conjunction, units: LandUnits, where: str,
          mask: np.ndarray | None = None) -> np.ndarray:
    """(n,) bool: every test of the conjunction holds; only the land units of `mask` are
    checked (GCBM checks a condition only where it applies), the others are False."""
    out = np.ones(units.n, dtype=bool) if mask is None else mask.copy()
    for test in conjunction:
        if not out.any():
            break
        if isinstance(test, VariableTest):
            out &= _variable(test, units, where, out)
        elif isinstance(test, PoolTest):
            total = np.zeros(units.n, dtype=np.float64)
            for pool in test.pools:  # summed one pool after the other, as GCBM does
                total = total + units.pools[pool]
            out &= compare_pools(total, test.op, test.target, where)
        else:
            out &= _sequence(test, units, where)
    return out


def _variable(test: VariableTest, units: LandUnits, where: str,
              mask: np.ndarray) -> np.ndarray:
    if test.name not in units.variables:
        raise InputError(f"condition on {test.name!r}: no such variable or classifier "
                         "(GCBM fails on it)", source=where)
    codes, decode = units.variables[test.name]
    out = np.zeros(units.n, dtype=bool)
    distinct, inverse = np.unique(codes[mask], return_inverse=True)
    results = np.array([compare(decode(int(code)), test.op, test.target,
                                f"{where}: {test.name}") for code in distinct], dtype=bool)
    out[mask] = results[inverse.ravel()] if distinct.size else False
    return out


def _sequence(test: SequenceTest, units: LandUnits, where: str) -> np.ndarray:
    """DisturbanceSequenceSubCondition::check: the items against the history, newest first."""
    history = units.history
    n = units.n
    if history is None:
        raise InputError("disturbance_sequence needs the disturbance history", source=where)
    result = np.ones(n, dtype=bool)
    undecided = np.ones(n, dtype=bool)
    index = np.zeros(n, dtype=np.int64)  # into the history, 0 = the latest event
    reference = np.full(n, units.year, dtype=np.int64)
    columns = np.arange(n)
    for i, item in enumerate(test.items):
        match_none, match_any = item.type_name == "none", item.type_name == "any"
        exhausted = undecided & (index > history.count - 1)
        result[exhausted] = match_none and i == len(test.items) - 1
        undecided &= ~exhausted
        position = np.clip(history.count - 1 - index, 0, max(history.type_idx.shape[0] - 1, 0))
        if history.type_idx.shape[0] == 0:
            break
        kind = history.type_idx[position, columns]
        year = history.year[position, columns]
        age = history.age[position, columns]
        fails = np.zeros(n, dtype=bool)
        if not (match_none or match_any):
            named = [t for t, name in enumerate(units.type_names) if name == item.type_name]
            fails |= ~np.isin(kind, named)
        within = np.ones(n, dtype=bool) if item.max_years_ago == -1 else \
            reference - year <= item.max_years_ago
        fails |= within if match_none else ~within
        fails |= ~_compare_age(age, item.age_op, item.age_target, where)
        result[undecided & fails] = False
        undecided &= ~fails
        if not match_none:
            reference = np.where(undecided, year, reference)
            index = index + undecided
        elif item.max_years_ago != -1:
            reference = np.where(undecided, reference - item.max_years_ago, reference)
    return result


def state_variables(rules: DisturbanceRules, *, age: np.ndarray, regen_delay: np.ndarray,
                    classifier_set: np.ndarray, spu: np.ndarray, current_land_class: np.ndarray,
                    historic_land_class: np.ndarray, is_forest: np.ndarray,
                    is_decaying: np.ndarray) -> dict[str, tuple[np.ndarray, Callable[[int], Any]]]:
    """The variables a condition may name, as (per land-unit codes, code -> GCBM value)."""
    codes = rules.land_class_codes
    n_classes = max(len(codes), 1)
    unfccc = tuple(f"UNFCCC_{h}_R_{c}" for h in codes for c in codes)
    out: dict[str, tuple[np.ndarray, Callable[[int], Any]]] = {
        name: (np.zeros(age.shape[0], dtype=np.int64), _constant(value))
        for name, value in rules.constants.items()}
    for name, values in rules.spu_values.items():
        out[name] = (spu, values.__getitem__)
    out.update({
        "age": (age, int), "regen_delay": (regen_delay, int),
        "current_land_class": (current_land_class, codes.__getitem__),
        "historic_land_class": (historic_land_class, codes.__getitem__),
        "unfccc_land_class": (historic_land_class * n_classes + current_land_class,
                              unfccc.__getitem__),
        "is_forest": (is_forest.astype(np.int64), bool),
        "is_decaying": (is_decaying.astype(np.int64), bool),
    })
    for position, name in enumerate(rules.classifier_names):
        values = tuple(classifier_values[position] for classifier_values in rules.classifier_sets)
        out[name] = (classifier_set, values.__getitem__)
    return out


def _constant(value: Any) -> Callable[[int], Any]:
    def get(_code: int) -> Any:
        return value
    return get
