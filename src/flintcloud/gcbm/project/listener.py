"""The disturbance listener's settings and the growth multipliers, read from the project
(moja.canada 46e1baa8 cbmdisturbancelistener.cpp, growthmultipliermodule.cpp):
`user_disturbance_order` / `default_disturbance_order`, per-event `conditions` in the layers'
attribute tables, CBMDisturbanceListener.settings.conditions, and GrowthMultiplierModule with
the `growth_multipliers` / `current_growth_multipliers` variables.

Everything GCBM would fail on at run time (a condition on a variable that does not exist, an
unknown pool) is refused here, naming the file and the key.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from flintcloud.errors import ConfigError
from flintcloud.gcbm.project.sql import as_rows
from flintcloud.gcbm.science.conditions import (
    Conjunction,
    DisturbanceRules,
    ListenerCondition,
    Op,
    PoolTest,
    SequenceItem,
    SequenceTest,
    Test,
    VariableTest,
    poco_string,
)
from flintcloud.gcbm.science.multipliers import GrowthMultipliers
from flintcloud.gcbm.science.ordering import initial_order
from flintcloud.gcbm.science.parameters import Disturbances, LandClasses
from flintcloud.gcbm.science.pools import POOL_BY_NAME

if TYPE_CHECKING:
    from flintcloud.flint.config import ConfigView
    from flintcloud.gcbm.project.config import GcbmProject
    from flintcloud.gcbm.project.parameters import ParameterLibrary

# Land-unit variables a condition may read (besides constants, classifiers and the variables
# that locate a spatial unit)
STATE_VARIABLES = ("age", "regen_delay", "current_land_class", "historic_land_class",
                   "unfccc_land_class", "is_forest", "is_decaying")
_RESERVED = ("disturbance_type", "run_conditions", "override_conditions",
             "override_disturbance_type")
_NO_ORDER: tuple[Any, ...] = (None, [], "", {})  # an empty ordering variable: the layers' order applies


def disturbance_order(project: GcbmProject) -> dict[str, int]:
    """fetchDisturbanceOrder's map from the two ordering variables (lists of type names)."""
    lists: list[list[str]] = []
    for name in ("user_disturbance_order", "default_disturbance_order"):
        value = project.variables.get(name, None)
        if value in _NO_ORDER:
            lists.append([])
            continue
        if not isinstance(value, list) or any(isinstance(v, dict | list) for v in value):
            raise project.variables.error("expected a list of disturbance type names", name)
        lists.append([poco_string(v) for v in value])
    return initial_order(lists[0], lists[1])


def growth_multipliers(library: ParameterLibrary, disturbances: Disturbances) -> GrowthMultipliers:
    """GrowthMultiplierModule's sets by disturbance type, or none when the module is off
    (it runs only with the module enabled and the `current_growth_multipliers` variable)."""
    project = library.project
    n_types = len(disturbances.type_names)
    has_variable = "current_growth_multipliers" in project.variables
    if has_variable and project.variables.get("current_growth_multipliers") not in (None, {}):
        raise project.variables.error("current_growth_multipliers must start empty ({}): GCBM's "
                                      "growth module would apply it in spinup too",
                                      "current_growth_multipliers")
    module = project.modules.get("GrowthMultiplierModule")
    if module is None or not has_variable:
        return GrowthMultipliers.none(n_types)
    if "growth_multipliers" not in project.variables:
        raise project.variables.error("GrowthMultiplierModule needs the variable "
                                      "'growth_multipliers'", "growth_multipliers")
    value = library.evaluate("growth_multipliers") if library.is_query("growth_multipliers") \
        else project.variables.get("growth_multipliers")
    series: dict[int, dict[str, dict[int, float]]] = {}
    where = project.variables.child("growth_multipliers")
    for number, row in enumerate(as_rows(value)):
        if not isinstance(row, dict) or any(key not in row for key in
                                            ("disturbance_type", "forest_type", "time_step",
                                             "multiplier")):
            raise where.error(f"row {number}: expected disturbance_type, forest_type, time_step "
                              "and multiplier")
        name = poco_string(row["disturbance_type"])
        if name not in disturbances.type_names:
            continue  # never fired
        try:
            step, multiplier = int(row["time_step"]), float(row["multiplier"])
        except (TypeError, ValueError) as err:
            raise where.error(f"row {number}: {err}") from err
        by_type = series.setdefault(disturbances.type_index(name), {})
        by_type.setdefault(poco_string(row["forest_type"]), {})[step] = multiplier
    orders = {name: project.modules[name].integer("order")
              for name in ("CBMDisturbanceListener", "GrowthMultiplierModule", "CBMGrowthModule")
              if name in project.modules}
    same_step = orders.get("CBMDisturbanceListener", -1) < orders["GrowthMultiplierModule"] < \
        orders.get("CBMGrowthModule", 1 << 30)
    return GrowthMultipliers.build(n_types, series, same_step=same_step)


def _known_variables(library: ParameterLibrary) -> set[str]:
    return {*STATE_VARIABLES, *library.constants, *library.locations.names, "spatial_unit_id",
            *library.classifier_names}


def _checked_name(library: ParameterLibrary, name: str, view: ConfigView, key: str | int) -> None:
    if name in _known_variables(library):
        return
    if name in library.project.variables:
        raise view.error(f"a condition on variable {name!r} is not supported (supported: "
                         "constants, classifiers, spatial-unit variables, "
                         f"{', '.join(STATE_VARIABLES)})", key)
    raise view.error(f"no variable named {name!r} (GCBM fails on it)", key)


def _target(value: Any) -> tuple[Op, Any]:
    """createSubCondition's comparison and target for a key's configured value."""
    if not isinstance(value, list):
        return Op.EQUAL_TO, value
    head = poco_string(value[0]) if value else ""
    if head == "<":
        return Op.LESS_THAN, value[1] if len(value) > 1 else None
    if head == ">=":
        return Op.AT_LEAST, value[1] if len(value) > 1 else None
    if head == "<->":
        return Op.BETWEEN, tuple(value[1:3])
    if head == "!=":
        return Op.NOT_IN, tuple(value)
    return Op.IN, tuple(value)  # the whole list, its first element included


def _sub_condition(library: ParameterLibrary, view: ConfigView) -> Conjunction:
    """createSubCondition: a conjunction of the object's keys (reserved keys left out)."""
    tests: list[Test] = []
    for key, item in view.items():
        if key in _RESERVED:
            continue
        if key == "disturbance_sequence":
            tests.append(_sequence(item))
            continue
        op, target = _target(item.value)
        if op in (Op.LESS_THAN, Op.AT_LEAST) and target is None or \
                op == Op.BETWEEN and len(target) != 2:
            raise view.error(f"{item.value!r}: the comparison needs its value(s)", key)
        if key in library.project.variables or key in _known_variables(library):
            _checked_name(library, key, view, key)
            tests.append(VariableTest(key, op, target))
            continue
        pools = []
        for name in (part.strip() for part in key.split("+")):
            if name not in POOL_BY_NAME:
                raise view.error(f"no pool or variable found with name {name!r}", key)
            pools.append(int(POOL_BY_NAME[name]))
        tests.append(PoolTest(tuple(pools), op, target))
    return tuple(tests)


def _sequence(view: ConfigView) -> SequenceTest:
    items = []
    for element in view.elements():
        entry = element.expect_array()
        if not entry:
            raise element.error("expected [disturbance type, max years ago, comparison, age]")
        op: Op = Op.AT_LEAST
        age: Any = 0
        if len(entry) > 2:
            head = poco_string(entry[2])
            op = {"<": Op.LESS_THAN, ">=": Op.AT_LEAST, "<->": Op.BETWEEN}.get(head, Op.EQUAL_TO)
            if len(entry) < (5 if op == Op.BETWEEN else 4):
                raise element.error("the age comparison needs its value(s)")
            age = tuple(entry[3:5]) if op == Op.BETWEEN else entry[3]
        try:
            years = int(entry[1]) if len(entry) > 1 else 9999
        except (TypeError, ValueError):
            raise element.error(f"max years ago {entry[1]!r} is not a number") from None
        items.append(SequenceItem(poco_string(entry[0]), years, op, age))
    return SequenceTest(tuple(items))


def _type_indices(value: Any, disturbances: Disturbances) -> tuple[int, ...]:
    names = value if isinstance(value, list) else [value]
    return tuple(disturbances.type_index(poco_string(name)) for name in names
                 if poco_string(name) in disturbances.type_names)


def listener_conditions(library: ParameterLibrary,
                        disturbances: Disturbances) -> tuple[ListenerCondition, ...]:
    """CBMDisturbanceListener.settings.conditions, compiled."""
    listener = library.project.modules.get("CBMDisturbanceListener")
    if listener is None or "settings" not in listener or \
            "conditions" not in listener.child("settings"):
        return ()
    settings = listener.child("settings")
    out = []
    source = library.project.source_of("Modules", "CBMDisturbanceListener")
    for number, entry in enumerate(settings.child("conditions").elements()):
        entry.expect_object()
        where = f"{source}: CBMDisturbanceListener.settings.conditions[{number}]"
        override_type = -1
        if "override_disturbance_type" in entry:
            name = poco_string(entry.get("override_disturbance_type"))
            if name not in disturbances.type_names:
                raise entry.error(f"unknown disturbance type {name!r}", "override_disturbance_type",
                                  hint="it must be a disturbance_type.name in gcbm_input.db")
            override_type = disturbances.type_index(name)
        run = tuple(_sub_condition(library, item) for item in entry.child("run_conditions")
                    .elements()) if "run_conditions" in entry else ()
        override = tuple(_sub_condition(library, item) for item in
                         entry.child("override_conditions").elements()) \
            if "override_conditions" in entry else ()
        out.append(ListenerCondition(_type_indices(entry.get("disturbance_type"), disturbances),
                                     _sub_condition(library, entry), run, override,
                                     override_type, where))
    return tuple(out)


def event_conditions(library: ParameterLibrary, layer_source: str, where: str,
                     conditions: Any) -> Conjunction:
    """A layer event's `conditions`: [[variable or classifier, "<" | ">=" | else ==, value], ...]."""
    if not isinstance(conditions, list):
        raise ConfigError("conditions must be a list of [variable, comparison, value]",
                          source=layer_source, field=where)
    tests: list[Test] = []
    for number, condition in enumerate(conditions):
        if not isinstance(condition, list) or len(condition) < 3:
            raise ConfigError("expected [variable, comparison, value]", source=layer_source,
                              field=f"{where}[{number}]")
        name, head = poco_string(condition[0]), poco_string(condition[1])
        op = Op.LESS_THAN if head == "<" else Op.AT_LEAST if head == ">=" else Op.EQUAL_TO
        if name not in _known_variables(library):
            detail = "not supported in a condition" if name in library.project.variables \
                else "no such variable or classifier (GCBM fails on it)"
            raise ConfigError(f"{name!r}: {detail}", source=layer_source,
                              field=f"{where}[{number}]")
        tests.append(VariableTest(name, op, condition[2]))
    return tuple(tests)


def spu_values(library: ParameterLibrary) -> dict[str, tuple[Any, ...]]:
    """The variables that differ by spatial unit, per spatial unit index."""
    out: dict[str, tuple[Any, ...]] = {"spatial_unit_id": tuple(library.spu_ids)}
    for name in library.locations.names:
        out[name] = tuple(context.get(name) for context in library.locations.contexts)
    return out


def rules(library: ParameterLibrary, disturbances: Disturbances,
          land_classes: LandClasses) -> DisturbanceRules:
    """The listener's conditions and what they read; per-event conditions are added by
    `register_event_conditions`."""
    constants = {name: value for name, value in library.constants.items()
                 if isinstance(value, str | int | float | bool)}
    return DisturbanceRules(listener=listener_conditions(library, disturbances),
                            classifier_names=tuple(library.classifier_names),
                            constants=constants, spu_values=spu_values(library),
                            land_class_codes=land_classes.codes)


def register_event_conditions(library: ParameterLibrary, base: DisturbanceRules
                              ) -> tuple[DisturbanceRules, dict[tuple[str, str, int], int]]:
    """Every disturbance layer's per-event conditions, compiled once: the rules with them, and
    (layer, attribute key, position in the value's list) -> their index."""
    project = library.project
    compiled: list[Conjunction] = []
    wheres: list[str] = []
    index: dict[tuple[str, str, int], int] = {}
    for name in project.disturbance_layers:
        layer = project.raster_layer_of(name)
        if layer is None:
            continue
        for key, interpretation in (layer.attributes or {}).items():
            items = interpretation if isinstance(interpretation, list) else [interpretation]
            for position, item in enumerate(items):
                if not isinstance(item, dict) or not item.get("conditions"):
                    continue
                where = f"attributes[{key!r}].conditions"
                index[(layer.name, key, position)] = len(compiled)
                compiled.append(event_conditions(library, layer.metadata_source, where,
                                                 item["conditions"]))
                wheres.append(f"{layer.metadata_source}: {where}")
    if not compiled:
        return base, index
    return replace(base, event_conditions=tuple(compiled), event_where=tuple(wheres)), index
