"""GCBM parameters from gcbm_input.db through the project's own SQL variables (gcbm-spec §4).

Lookups are resolved here, once, into integer-indexed tables (science.parameters). Growth
curves and transition rules are matched per classifier set by science.matching's rules, from the
tables the module transforms read (no SQL text is ever built from values).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from flintcloud.errors import ConfigError, ParameterDbError
from flintcloud.gcbm.project import listener
from flintcloud.gcbm.project.config import GcbmProject
from flintcloud.gcbm.project.sql import (
    SqliteProvider,
    as_rows,
    bind_query,
    referenced_variables,
    shape_result,
)
from flintcloud.gcbm.science.growth_curves import (
    CarbonCurve,
    VolumeToBiomassParameters,
    build_carbon_curve,
)
from flintcloud.gcbm.science.matching import (
    best_growth_curve,
    best_transitions,
    set_after_transition,
)
from flintcloud.gcbm.science.parameters import (
    AgeClasses,
    AgeReset,
    DecayParameters,
    DisturbanceMatrix,
    Disturbances,
    GcbmParameters,
    LandClasses,
    SpinupParameters,
    StandTypes,
    Transitions,
    Turnover,
)
from flintcloud.gcbm.science.pools import N_POOLS, POOL_BY_NAME, POOL_NAMES

_TURNOVER_COLUMNS = {
    Turnover.FOLIAGE: "{}_foliage_turnover", Turnover.STEM: "{}_stem_turnover",
    Turnover.BRANCH: "{}_branch_turnover", Turnover.BRANCH_SNAG_SPLIT: "{}_other_to_branch_snag_split",
    Turnover.STEM_SNAG: "{}_stem_snag_turnover", Turnover.BRANCH_SNAG: "{}_branch_snag_turnover",
    Turnover.COARSE_ROOT_SPLIT: "{}_coarse_root_split", Turnover.COARSE_ROOT: "{}_coarse_root_turnover",
    Turnover.FINE_ROOT_SPLIT: "{}_fine_root_ag_split", Turnover.FINE_ROOT: "{}_fine_root_turnover",
}
_RESET_TYPES = {"absolute": AgeReset.ABSOLUTE, "relative": AgeReset.RELATIVE, "yield": AgeReset.YIELD}


@dataclass(frozen=True)
class SpatialUnits:
    """Where a pixel's spatial unit comes from: the raster variables the spatial-unit queries
    (or the reporting classifiers) read, each with an attribute table naming its values (e.g.
    admin_boundary, eco_boundary). Without any, every pixel is in spatial unit 0."""

    names: list[str]  # the raster variables, sorted
    values: list[list[Any]]  # per variable: its distinct attribute values
    contexts: list[dict[str, Any]]  # per spatial unit index: {variable: value}
    spu_of_combo: np.ndarray  # (prod(len(v) for v in values),) intp, -1: no spatial unit
    # per variable: (its pixel values (k,) int64 sorted, their positions in `values` (k,) intp)
    codes: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    def combo_values(self, combo: int) -> list[Any]:
        """The variables' values of a mixed-radix combination index."""
        out = []
        for values in reversed(self.values):
            combo, position = divmod(combo, len(values))
            out.append(values[position])
        return out[::-1]


@dataclass
class ParameterLibrary:
    """Project-wide parameters, plus caches of what is computed per classifier set or curve."""

    project: GcbmProject
    db: SqliteProvider
    constants: dict[str, Any]
    classifier_names: list[str]  # the classifier layers, in initial_classifier_set order
    spu_ids: list[int]
    curves_by_classifiers: dict[int, dict[str, str]]
    rules: list[tuple[int, int, dict[str, str]]]  # (transition id, disturbance type idx, values)
    base: GcbmParameters  # with empty stand types and classifier tables
    transition_classifiers: dict[int, dict[str, str]]
    smoother_enabled: bool = True
    locations: SpatialUnits = field(default_factory=lambda: SpatialUnits([], [], [{}],
                                                                          np.zeros(1, np.intp)))
    reporting_names: list[str] = field(default_factory=list)  # extra reporting columns
    reporting_values: list[tuple[Any, ...]] = field(default_factory=list)  # per spatial unit
    # (disturbance layer, attribute key, position) -> index of its event conditions
    event_conditions: dict[tuple[str, str, int], int] = field(default_factory=dict)
    disturbance_order: dict[str, int] = field(default_factory=dict)  # user then default types
    _carbon: dict[tuple[int, int], tuple[CarbonCurve | None, np.ndarray, np.ndarray]] = field(
        default_factory=dict)
    _curve_of_set: dict[tuple, int] = field(default_factory=dict)

    # -- SQL variables --------------------------------------------------------------------
    def is_query(self, name: str) -> bool:
        """Whether variable `name` is an SQLQueryTransform."""
        if name not in self.project.variables:
            return False
        value = self.project.variable(name).value
        return isinstance(value, dict) and isinstance(value.get("transform"), dict) and \
            value["transform"].get("type") == "SQLQueryTransform"

    def evaluate(self, name: str, context: dict[str, Any] | None = None, *,
                 _depth: int = 0) -> Any:
        """An SQL-query variable's value with `{var:...}` bound from constants and `context`;
        a reference to another SQL-query variable is that variable's value in the same context
        (as FLINT evaluates the template's leading-species variables)."""
        view = self.project.variable(name)
        transform = view.child("transform") if isinstance(view.value, dict) and \
            "transform" in view.value else None
        if transform is None or transform.get("type", None) != "SQLQueryTransform":
            raise view.error("expected an SQLQueryTransform variable")
        query = transform.string("queryString")
        values = {**self.constants, **(context or {})}
        queried = set()
        for ref in referenced_variables(query):
            if ref not in values and self.is_query(ref) and _depth < 8:
                # no row binds SQL NULL, as FLINT binds an empty variable (e.g. a stand's
                # hardwood leading species when it has none)
                values[ref] = self.evaluate(ref, context, _depth=_depth + 1)
                queried.add(ref)
            if ref not in values:
                raise transform.error(f"query refers to variable {ref!r}, which has no value "
                                      "here (only constants and per-curve/spatial-unit values "
                                      "are supported)", "queryString")
            if values[ref] is None and ref not in queried:
                raise transform.error(f"query refers to variable {ref!r}, which is empty",
                                      "queryString")
        sql, parameters = bind_query(query, values)
        return shape_result(self.db.query(sql, parameters, variable=name))

    # -- per classifier set -----------------------------------------------------------------
    def growth_curve_of(self, classifier_set: tuple[str, ...]) -> int:
        """GrowthCurveTransform: the best-scoring curve id for a classifier set, or -1."""
        if classifier_set in self._curve_of_set:
            return self._curve_of_set[classifier_set]
        values = dict(zip(self.classifier_names, classifier_set, strict=True))
        best = best_growth_curve(self.curves_by_classifiers, values)
        self._curve_of_set[classifier_set] = best
        return best

    def carbon_curve(self, curve_id: int, spu_idx: int):
        """(CarbonCurve or None, turnover (2, 10), roots (2, 6)) of a (curve, spatial unit);
        GCBM caches them by the same pair."""
        key = (curve_id, spu_idx)
        if key not in self._carbon:
            self._carbon[key] = self._build_carbon_curve(curve_id, spu_idx)
        return self._carbon[key]

    def spu_context(self, spu_idx: int) -> dict[str, Any]:
        """The variables that locate spatial unit `spu_idx` (its layers' values, its id)."""
        return {**self.locations.contexts[spu_idx], "spatial_unit_id": self.spu_ids[spu_idx]}

    def _build_carbon_curve(self, curve_id: int, spu_idx: int):
        context = {**self.spu_context(spu_idx), "growth_curve_id": curve_id}
        tables = {}
        for forest_type in ("softwood", "hardwood"):
            rows = as_rows(_rows_of(self.evaluate(f"{forest_type}_yield_table", context)))
            if rows:
                tables[forest_type] = (np.array([row["age"] for row in rows]),
                                       np.array([row["merchantable_volume"] for row in rows], float))
        params: dict[str, VolumeToBiomassParameters] = {}
        roots = np.zeros((2, 6), dtype=np.float64)
        for row in as_rows(self.evaluate("volume_to_biomass_parameters", context)):
            forest_type = str(row["forest_type"]).lower()
            if forest_type not in ("softwood", "hardwood"):
                continue
            params[forest_type] = _vol_to_bio(row, forest_type)  # the last row wins (§4)
            roots[0 if forest_type == "softwood" else 1] = [
                row["sw_a"], row["hw_a"], row["hw_b"], row["frp_a"], row["frp_b"], row["frp_c"]]
        try:
            curve = build_carbon_curve(tables.get("softwood"), tables.get("hardwood"),
                                       params.get("softwood"), params.get("hardwood"),
                                       self.smoother_enabled)
        except ValueError as err:
            raise ParameterDbError(f"growth curve {curve_id}: {err}", source=self.db.name,
                                   field="growth_curve_component_value") from err
        turnover = np.zeros((2, len(Turnover)), dtype=np.float64)
        row = self.evaluate("turnover_rates", context)
        if isinstance(row, list):
            row = row[0]
        if isinstance(row, dict):
            for component, prefix in enumerate(("sw", "hw")):
                for column, template in _TURNOVER_COLUMNS.items():
                    turnover[component, column] = float(row[template.format(prefix)] or 0.0)
        return curve, turnover, roots

    def transition_matches(self, classifier_set: tuple[str, ...]) -> dict[int, int]:
        """TransitionRuleTransform: {disturbance type idx: transition id} for a set."""
        values = dict(zip(self.classifier_names, classifier_set, strict=True))
        return best_transitions(self.rules, values)

    def apply_transition(self, transition_id: int, classifier_set: tuple[str, ...]) -> tuple:
        return set_after_transition(self.transition_classifiers.get(transition_id, {}),
                                    self.classifier_names, classifier_set)

    # -- per block ----------------------------------------------------------------------------
    def for_classifier_sets(self, initial_sets: list[tuple[str, ...]],
                            spu_indices: Iterable[int] | None = None) -> BlockParameters:
        """Parameters for a batch whose pixels start in `initial_sets` in the spatial units
        `spu_indices` (default: all): the sets reachable by transitions, their stand types,
        transition table and rule matches."""
        sets = list(dict.fromkeys(initial_sets))
        index = {s: i for i, s in enumerate(sets)}
        transition_ids = list(self.base.transitions.ids)
        queue = list(sets)
        while queue:
            current = queue.pop()
            for transition_id in transition_ids:
                next_set = self.apply_transition(int(transition_id), current)
                if next_set not in index:
                    index[next_set] = len(sets)
                    sets.append(next_set)
                    queue.append(next_set)
        n_sets, n_spus = len(sets), len(self.spu_ids)
        spus = sorted({int(s) for s in spu_indices}) if spu_indices is not None else range(n_spus)
        stand_keys: dict[tuple[int, int], int] = {}
        stand_type_by_set = np.full((n_sets, n_spus), -1, dtype=np.intp)
        for set_idx, classifier_set in enumerate(sets):
            curve_id = self.growth_curve_of(classifier_set)
            if curve_id < 0:
                continue
            for spu_idx in spus:
                if self.carbon_curve(curve_id, spu_idx)[0] is None:
                    continue
                stand_type_by_set[set_idx, spu_idx] = stand_keys.setdefault(
                    (curve_id, spu_idx), len(stand_keys))
        keys = list(stand_keys)
        built = [self.carbon_curve(*key) for key in keys]
        stand_types = StandTypes.build([k[0] for k in keys], [self.spu_ids[k[1]] for k in keys],
                                       [b[0] for b in built], [b[1] for b in built],
                                       [b[2] for b in built])
        transitions = self.base.transitions
        after = np.array([[index[self.apply_transition(int(t), s)] for s in sets]
                          for t in transitions.ids], dtype=np.intp).reshape(len(transitions.ids), n_sets)
        id_to_idx = {int(t): i for i, t in enumerate(transitions.ids)}
        n_types = len(self.base.disturbances.type_names)
        rule_transition = np.full((n_sets, n_types), -1, dtype=np.intp)
        if self.rules:
            for set_idx, classifier_set in enumerate(sets):
                for type_idx, transition_id in self.transition_matches(classifier_set).items():
                    rule_transition[set_idx, type_idx] = id_to_idx.get(transition_id, -1)
        params = replace(self.base, stand_types=stand_types,
                         transitions=replace(transitions, classifier_set_after=after),
                         rules=replace(self.base.rules, classifier_sets=tuple(sets)))
        return BlockParameters(params, sets, stand_type_by_set, rule_transition)


@dataclass(frozen=True)
class BlockParameters:
    params: GcbmParameters
    classifier_sets: list[tuple[str, ...]]
    stand_type_by_set: np.ndarray  # (n_sets, n_spus) intp
    rule_transition: np.ndarray  # (n_sets, n_disturbance_types) intp transition index or -1


def _rows_of(value):
    return value


def _vol_to_bio(row: dict, forest_type: str) -> VolumeToBiomassParameters:
    names = ("a", "b", "a_non_merch", "b_non_merch", "k_non_merch", "cap_non_merch", "a_sap",
             "b_sap", "k_sap", "cap_sap", "a1", "a2", "a3", "b1", "b2", "b3", "c1", "c2", "c3",
             "min_volume", "max_volume", "low_stemwood_prop", "high_stemwood_prop",
             "low_stembark_prop", "high_stembark_prop", "low_branches_prop", "high_branches_prop",
             "low_foliage_prop", "high_foliage_prop")
    # the table's columns in the order of the dataclass's fields
    values = {spec.name: float(row[name])
              for spec, name in zip(fields(VolumeToBiomassParameters), names, strict=False)}
    return VolumeToBiomassParameters(**values, top_prop=float(row[f"{forest_type}_top_prop"]),
                                     stump_prop=float(row[f"{forest_type}_stump_prop"]))


def _constants(project: GcbmProject) -> dict[str, Any]:
    out = {}
    for name, view in project.variables.items():
        value = view.value
        if isinstance(value, dict) and ("transform" in value or "flintdata" in value):
            continue
        out[name] = value
    return out


def _is_classifier_value(value: Any) -> bool:
    """A classifier variable given as a constant (GCBM reads it as the value of every cell)."""
    return isinstance(value, str | int) and not isinstance(value, bool)


def load_parameters(project: GcbmProject) -> ParameterLibrary:
    """Everything from gcbm_input.db and the config that does not depend on a pixel."""
    db = SqliteProvider(project.database, "provider_config.json")
    constants = _constants(project)
    library = ParameterLibrary(project, db, constants, [], [], {}, [], None, {})  # type: ignore[arg-type]
    growth = project.modules.get("CBMGrowthModule")
    if growth is not None and "settings" in growth:
        library.smoother_enabled = growth.child("settings").boolean("smoother_enabled", True)

    composite = project.variable("initial_classifier_set")
    library.classifier_names = [item.value for item in composite.child("transform").child("vars").elements()]
    for name in library.classifier_names:
        if project.raster_layer_of(name) is None and not _is_classifier_value(constants.get(name)):
            raise composite.error(f"classifier {name!r} must be a raster layer variable or a "
                                  f"classifier value, not {constants.get(name)!r}")
    if all(project.raster_layer_of(name) is None for name in library.classifier_names):
        raise composite.error("every classifier is a constant: at least one must be a raster "
                              "layer, whose cells say where the landscape is")

    reporting = _reporting_variables(library)
    library.locations = _spatial_units(library, reporting)
    library.reporting_names = reporting
    library.reporting_values = [_reporting_values(library, reporting, spu_idx)
                                for spu_idx in range(len(library.spu_ids))]

    curve_rows = db.query(
        "SELECT gcv.growth_curve_id AS curve, c.name AS classifier, cv.value AS value "
        "FROM growth_curve_classifier_value gcv "
        "JOIN classifier_value cv ON gcv.classifier_value_id = cv.id "
        "JOIN classifier c ON cv.classifier_id = c.id", variable="growth_curve_id")
    for row in curve_rows:
        library.curves_by_classifiers.setdefault(int(row["curve"]), {})[row["classifier"]] = row["value"]

    disturbances = _disturbances(library)
    library.rules = _transition_rules(library, disturbances)
    transitions, library.transition_classifiers = _transitions(library)
    land_classes = _land_classes(library)
    rules, library.event_conditions = listener.register_event_conditions(
        library, listener.rules(library, disturbances, land_classes))
    library.disturbance_order = listener.disturbance_order(project)
    base = GcbmParameters(
        stand_types=StandTypes.build([], [], [], np.zeros((0, 2, 10)), np.zeros((0, 2, 6))),
        decay=_decay(library),
        disturbances=replace(disturbances, land_class_idx=_land_class_of_types(
            library, disturbances, land_classes)),
        land_classes=land_classes,
        transitions=transitions,
        spinup=_spinup(library, disturbances),
        age_classes=AgeClasses(int(constants.get("age_class_range", 20)),
                               int(constants.get("age_maximum", 300))),
        initial_pools=_initial_pools(project),
        growth_multipliers=listener.growth_multipliers(library, disturbances),
        rules=rules,
    )
    library.base = base
    return library


def _reporting_variables(library: ParameterLibrary) -> list[str]:
    """The variables besides classifier_set in CBMAggregatorLandUnitData's reporting classifier
    set (a CompositeTransform): GCBM reports each as a column named after it."""
    project = library.project
    module = project.modules.get("CBMAggregatorLandUnitData")
    if module is None or "settings" not in module:
        return []
    settings = module.child("settings")
    name = settings.string("reporting_classifier_set", "classifier_set")
    if name == "classifier_set":
        return []
    transform = project.variable(name).child("transform") \
        if isinstance(project.variable(name).value, dict) and \
        "transform" in project.variable(name).value else None
    names = transform.get("vars", None) if transform is not None else None
    if transform is None or transform.get("type", None) != "CompositeTransform" or \
            not isinstance(names, list) or "classifier_set" not in names:
        raise settings.error(f"reporting classifier set {name!r} must be a CompositeTransform "
                             "of classifier_set and other variables", "reporting_classifier_set")
    extras = [str(var) for var in names if var != "classifier_set"]
    for var in extras:
        if var in library.classifier_names:
            raise transform.error(f"{var!r} is a classifier already: it would be two columns",
                                  "vars")
        if var not in project.variables:
            raise transform.error(f"variable {var!r} is not defined", "vars")
    return list(dict.fromkeys(extras))


def _location_variables(library: ParameterLibrary, reporting: list[str]) -> list[str]:
    """Raster variables that SQL-query variables refer to (directly or through other queries),
    plus raster reporting variables: together they locate a pixel's spatial unit."""
    project = library.project
    names = set(reporting)
    for name, view in project.variables.items():
        if library.is_query(name):
            names.update(referenced_variables(view.child("transform").string("queryString")))
    return sorted(name for name in names
                  if name in project.variables and name not in library.classifier_names
                  and project.raster_layer_of(name) is not None)


def _spatial_units(library: ParameterLibrary, reporting: list[str]) -> SpatialUnits:
    """Every combination of the location layers' values that is a spatial unit in the database
    (spatial_unit_id evaluated per combination), and the pixel-value lookups of each layer."""
    project = library.project
    names = _location_variables(library, reporting)
    values: list[list[Any]] = []
    codes = []
    for name in names:
        layer = project.raster_layer_of(name)
        assert layer is not None  # _location_variables keeps raster variables only
        if not layer.attributes:
            raise ConfigError(f"layer {layer.name!r} has no attribute table: variable {name!r} "
                              "needs one naming its values", source=layer.metadata_source,
                              field="attributes")
        bad = [key for key, value in layer.attributes.items()
               if not isinstance(value, str | int | float) or isinstance(value, bool)]
        if bad:
            raise ConfigError(f"variable {name!r}: attribute {bad[0]!r} must be a name or a number",
                              source=layer.metadata_source, field=f"attributes[{bad[0]!r}]")
        distinct = list(dict.fromkeys(layer.attributes.values()))
        try:
            keys = {int(key): distinct.index(value) for key, value in layer.attributes.items()}
        except ValueError as err:
            raise ConfigError(f"attribute keys must be pixel values (integers): {err}",
                              source=layer.metadata_source, field="attributes") from err
        order = sorted(keys)
        codes.append((np.array(order, dtype=np.int64),
                      np.array([keys[k] for k in order], dtype=np.intp)))
        values.append(distinct)
    contexts: list[dict[str, Any]] = []
    spu_of_combo = []
    for combo in itertools.product(*values):
        context = dict(zip(names, combo, strict=True))
        spu = library.evaluate("spatial_unit_id", context)
        if isinstance(spu, list) or (spu is None and not names):
            where = ", ".join(f"{k}={v!r}" for k, v in context.items()) or \
                f"({library.constants.get('admin_boundary')!r}, " \
                f"{library.constants.get('eco_boundary')!r})"
            raise ParameterDbError(f"spatial_unit_id: expected one spatial unit for {where}, "
                                   f"got {spu!r}", source=library.db.name, field="spatial_unit")
        if spu is None:
            spu_of_combo.append(-1)
            continue
        spu_of_combo.append(len(contexts))
        contexts.append(context)
        library.spu_ids.append(int(spu))
    if not contexts:
        raise ParameterDbError(f"no combination of {', '.join(names)} is a spatial unit",
                               source=library.db.name, field="spatial_unit",
                               hint="spatial_unit_id finds none for the layers' attribute values")
    return SpatialUnits(names, values, contexts, np.array(spu_of_combo, dtype=np.intp), codes)


def _reporting_values(library: ParameterLibrary, reporting: list[str],
                      spu_idx: int) -> tuple[str | None, ...]:
    """The reporting variables' values in a spatial unit, as text (the results db's columns)."""
    context = library.spu_context(spu_idx)
    out = []
    for name in reporting:
        if name in context:
            value = context[name]
        elif name in library.constants:
            value = library.constants[name]
        elif library.is_query(name):
            value = library.evaluate(name, context)
        else:
            raise library.project.variable(name).error(
                "a reporting variable must be a constant, a raster layer with an attribute "
                "table or an SQL query")
        out.append(value if value is None else str(value))
    return tuple(out)


def _initial_pools(project: GcbmProject) -> np.ndarray:
    pools = project.config.view("Pools")
    out = np.zeros(N_POOLS, dtype=np.float64)
    names = []
    for name, view in pools.items():
        if name not in POOL_BY_NAME:
            raise pools.error(f"pool {name!r} is not a GCBM pool", name,
                              hint="supported pools: " + ", ".join(POOL_NAMES))
        value = view.value.get("value", 0.0) if isinstance(view.value, dict) else view.value
        out[POOL_BY_NAME[name]] = float(value)
        names.append(name)
    missing = sorted(set(POOL_NAMES) - set(names))
    if missing:
        raise pools.error(f"missing GCBM pools: {', '.join(missing)}")
    return out


def _decay(library: ParameterLibrary) -> DecayParameters:
    rows = as_rows(library.evaluate("decay_parameters"))
    by_pool = {row["pool"]: row for row in rows}
    needed = ["AboveGroundVeryFastSoil", "BelowGroundVeryFastSoil", "AboveGroundFastSoil",
              "BelowGroundFastSoil", "MediumSoil", "AboveGroundSlowSoil", "BelowGroundSlowSoil",
              "SoftwoodStemSnag", "SoftwoodBranchSnag", "HardwoodStemSnag", "HardwoodBranchSnag"]
    missing = [name for name in needed if name not in by_pool]
    if missing:
        raise ParameterDbError(f"decay_parameters has no row for {', '.join(missing)}",
                               source=library.db.name, field="decay_parameter")
    rows = [by_pool[name] for name in needed]
    column = lambda key: np.array([float(row[key]) for row in rows])  # noqa: E731
    if np.any(column("q10") <= 0):
        raise ParameterDbError("q10 must be > 0", source=library.db.name, field="decay_parameter.q10")
    return DecayParameters(
        pools=np.array([POOL_BY_NAME[name] for name in needed], dtype=np.intp),
        base_rate=column("organic_matter_decay_rate"), reference_temp=column("reference_temp"),
        q10=column("q10"), prop_to_atmosphere=column("prop_to_atmosphere"),
        max_rate=column("max_decay_rate_soft"),
        slow_mixing_rate=float(library.constants.get("slow_ag_to_bg_mixing_rate", 0.006)))


def _pool_index(name: str, library: ParameterLibrary, field_name: str) -> int:
    if name not in POOL_BY_NAME:
        raise ParameterDbError(f"unknown pool {name!r}", source=library.db.name, field=field_name)
    return int(POOL_BY_NAME[name])


def _disturbances(library: ParameterLibrary) -> Disturbances:
    types = as_rows(library.evaluate("disturbance_type_codes"))
    names = tuple(str(row["disturbance_type"]) for row in types)
    codes = np.array([int(row["disturbance_type_code"]) for row in types], dtype=np.int64)
    transfers: dict[int, list[tuple[int, int, float]]] = {}
    for row in as_rows(library.evaluate("disturbance_matrices")):
        source = _pool_index(row["source_pool_name"], library, "disturbance_matrix_value")
        sink = _pool_index(row["dest_pool_name"], library, "disturbance_matrix_value")
        entries = transfers.setdefault(int(row["disturbance_matrix_id"]), [])
        if source != sink:
            entries.append((source, sink, float(row["proportion"])))
    matrix_ids = sorted(transfers)
    matrices = tuple(DisturbanceMatrix(np.array([t[0] for t in transfers[i]], np.intp),
                                       np.array([t[1] for t in transfers[i]], np.intp),
                                       np.array([t[2] for t in transfers[i]], np.float64))
                     for i in matrix_ids)
    position = {matrix_id: index for index, matrix_id in enumerate(matrix_ids)}
    type_index = {name: index for index, name in enumerate(names)}
    matrix_idx = np.full((len(names), len(library.spu_ids)), -1, dtype=np.intp)
    spu_index: dict[int, list[int]] = {}
    for index, spu in enumerate(library.spu_ids):
        spu_index.setdefault(spu, []).append(index)
    for row in as_rows(library.evaluate("disturbance_matrix_associations")):
        t, s = type_index.get(row["disturbance_type"]), spu_index.get(int(row["spatial_unit_id"]))
        if t is not None and s is not None and int(row["disturbance_matrix_id"]) in position:
            matrix_idx[t, s] = position[int(row["disturbance_matrix_id"])]
    return Disturbances(names, codes, matrices, np.array(matrix_ids, np.int64), matrix_idx,
                        np.full(len(names), -1, dtype=np.intp))


def _land_classes(library: ParameterLibrary) -> LandClasses:
    rows = as_rows(library.evaluate("land_class_data"))
    return LandClasses(tuple(str(r["land_class"]) for r in rows),
                       np.array([bool(r["is_forest"]) for r in rows]),
                       np.array([int(r["years_to_permanent"]) for r in rows], dtype=np.int64))


def _land_class_of_types(library, disturbances: Disturbances, land_classes: LandClasses) -> np.ndarray:
    out = np.full(len(disturbances.type_names), -1, dtype=np.intp)
    if "land_class_transitions" not in library.project.variables:
        return out
    for row in as_rows(library.evaluate("land_class_transitions")):
        if row["disturbance_type"] in disturbances.type_names:
            code = str(row["land_class_transition"])
            if code not in land_classes.codes:
                raise ParameterDbError(f"land class {code!r} is not in land_class",
                                       source=library.db.name, field="disturbance_type")
            out[disturbances.type_index(row["disturbance_type"])] = land_classes.codes.index(code)
    return out


def _transitions(library: ParameterLibrary) -> tuple[Transitions, dict[int, dict[str, str]]]:
    rows = as_rows(library.evaluate("transition_rules")) \
        if "transition_rules" in library.project.variables else []
    for row in rows:
        if str(row["reset_type"]).lower() not in _RESET_TYPES:
            raise ParameterDbError(f"transition {row['id']}: unknown reset type "
                                   f"{row['reset_type']!r}", source=library.db.name,
                                   field="transition_type.name")
    transitions = Transitions(
        ids=np.array([int(r["id"]) for r in rows], dtype=np.int64),
        reset_type=np.array([_RESET_TYPES[str(r["reset_type"]).lower()] for r in rows], np.int8),
        age=np.array([int(r["age"]) for r in rows], dtype=np.int64),
        regen_delay=np.array([int(r["regen_delay"] or 0) for r in rows], dtype=np.int64))
    classifiers: dict[int, dict[str, str]] = {}
    if "transition_rule_classifiers" in library.project.variables:
        for row in as_rows(library.evaluate("transition_rule_classifiers")):
            classifiers.setdefault(int(row["id"]), {})[row["classifier_name"]] = row["classifier_value"]
    return transitions, classifiers


def _transition_rules(library: ParameterLibrary, disturbances: Disturbances):
    if "transition_rule_matches" not in library.project.variables:
        return []
    rows = library.db.query(
        "SELECT tr.transition_id AS transition_id, dt.name AS disturbance_type, c.name AS classifier, "
        "cv.value AS value FROM transition_rule tr "
        "JOIN transition_rule_classifier_value trv ON trv.transition_rule_id = tr.id "
        "JOIN classifier_value cv ON trv.classifier_value_id = cv.id "
        "JOIN classifier c ON cv.classifier_id = c.id "
        "JOIN disturbance_type dt ON tr.disturbance_type_id = dt.id ORDER BY tr.id",
        variable="transition_rule_matches")
    grouped: dict[tuple[int, str], dict[str, str]] = {}
    for row in rows:
        grouped.setdefault((int(row["transition_id"]), row["disturbance_type"]), {})[
            row["classifier"]] = row["value"]
    out = []
    for (transition_id, type_name), values in grouped.items():
        if type_name in disturbances.type_names:
            out.append((transition_id, disturbances.type_index(type_name), values))
    return out


SPINUP_KEYS = ("return_interval", "max_rotations", "historic_disturbance_type",
               "last_pass_disturbance_type")


def _spinup_row(library: ParameterLibrary, spu_idx: int) -> Any:
    """spinup_parameters in a spatial unit: its SQL query's row, or the object the variable
    holds (a FLINT variable may be a constant object; GCBM reads the same keys from either)."""
    view = library.project.variable("spinup_parameters")
    if not (isinstance(view.value, dict) and "transform" not in view.value):
        row = library.evaluate("spinup_parameters", library.spu_context(spu_idx))
        return row[0] if isinstance(row, list) else row
    missing = [key for key in SPINUP_KEYS if key not in view.value]
    if missing:
        raise view.error(f"missing {', '.join(missing)}")
    return view.value


def _spinup(library: ParameterLibrary, disturbances: Disturbances) -> SpinupParameters:
    """Spinup parameters per spatial unit; one without a spinup_parameters row is not spun up."""
    n = len(library.spu_ids)
    minimum = library.project.spinup_variables.get("minimum_rotation", 10)
    out = SpinupParameters(np.ones(n, np.int64), np.ones(n, np.int64), np.full(n, -1, np.intp),
                           np.full(n, -1, np.intp), np.zeros(n, np.int64), int(minimum),
                           np.zeros(n, bool))
    if not library.project.spinup_enabled:
        return out
    for spu_idx in range(n):
        row = _spinup_row(library, spu_idx)
        if row is None:
            continue
        def type_idx(key: str, spinup_row: Any = row) -> int:
            name = spinup_row[key]
            if name not in disturbances.type_names:
                raise ParameterDbError(f"spinup disturbance type {name!r} is not a disturbance "
                                       "type", source=library.db.name,
                                       field=f"spinup_parameters.{key}")
            return disturbances.type_index(name)

        if int(row["return_interval"]) < 1:
            raise ParameterDbError("return_interval must be >= 1", source=library.db.name,
                                   field="spinup_parameter.return_interval")
        out.return_interval[spu_idx] = int(row["return_interval"])
        out.max_rotations[spu_idx] = int(row["max_rotations"])
        out.historic_type_idx[spu_idx] = type_idx("historic_disturbance_type")
        out.last_pass_type_idx[spu_idx] = type_idx("last_pass_disturbance_type")
        out.delay[spu_idx] = int(row.get("inventory_delay", row.get("delay", 0)) or 0)
        out.has_parameters[spu_idx] = True
    return out


__all__ = ["BlockParameters", "ConfigError", "ParameterLibrary", "SpatialUnits",
           "load_parameters"]
