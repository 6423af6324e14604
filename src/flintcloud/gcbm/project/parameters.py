"""GCBM parameters from gcbm_input.db through the project's own SQL variables (gcbm-spec §4).

Lookups are resolved here, once, into integer-indexed tables (science.parameters). Growth
curves and transition rules are matched per classifier set by science.matching's rules, from the
tables the module transforms read (no SQL text is ever built from values).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from flintcloud.errors import ConfigError, ParameterDbError
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
    _carbon: dict[tuple[int, int], tuple[CarbonCurve | None, np.ndarray, np.ndarray]] = field(
        default_factory=dict)
    _curve_of_set: dict[tuple, int] = field(default_factory=dict)

    # -- SQL variables --------------------------------------------------------------------
    def evaluate(self, name: str, context: dict[str, Any] | None = None) -> Any:
        """An SQL-query variable's value with `{var:...}` bound from constants and `context`."""
        view = self.project.variable(name)
        transform = view.child("transform") if isinstance(view.value, dict) and \
            "transform" in view.value else None
        if transform is None or transform.get("type", None) != "SQLQueryTransform":
            raise view.error("expected an SQLQueryTransform variable")
        query = transform.string("queryString")
        values = {**self.constants, **(context or {})}
        for ref in referenced_variables(query):
            if ref not in values:
                raise transform.error(f"query refers to variable {ref!r}, which has no value "
                                      "here (only constants and per-curve/spatial-unit values "
                                      "are supported)", "queryString")
            if values[ref] is None:
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

    def carbon_curve(self, curve_id: int, spu_id: int):
        """(CarbonCurve or None, turnover (2, 10), roots (2, 6)) of a (curve, spatial unit)."""
        key = (curve_id, spu_id)
        if key not in self._carbon:
            self._carbon[key] = self._build_carbon_curve(curve_id, spu_id)
        return self._carbon[key]

    def _build_carbon_curve(self, curve_id: int, spu_id: int):
        context = {"growth_curve_id": curve_id, "spatial_unit_id": spu_id}
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
    def for_classifier_sets(self, initial_sets: list[tuple[str, ...]]) -> BlockParameters:
        """Parameters for a batch whose pixels start in `initial_sets`: the sets reachable by
        transitions, their stand types, transition table and rule matches."""
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
        stand_keys: dict[tuple[int, int], int] = {}
        stand_type_by_set = np.full((n_sets, n_spus), -1, dtype=np.intp)
        for set_idx, classifier_set in enumerate(sets):
            curve_id = self.growth_curve_of(classifier_set)
            if curve_id < 0:
                continue
            for spu_idx, spu_id in enumerate(self.spu_ids):
                if self.carbon_curve(curve_id, spu_id)[0] is None:
                    continue
                stand_type_by_set[set_idx, spu_idx] = stand_keys.setdefault(
                    (curve_id, spu_id), len(stand_keys))
        keys = list(stand_keys)
        built = [self.carbon_curve(*key) for key in keys]
        stand_types = StandTypes.build([k[0] for k in keys], [k[1] for k in keys],
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
                         transitions=replace(transitions, classifier_set_after=after))
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
        if project.raster_layer_of(name) is None:
            raise composite.error(f"classifier {name!r} must be a raster layer variable")

    spu = library.evaluate("spatial_unit_id")
    if spu is None or isinstance(spu, list):
        raise ParameterDbError(f"spatial_unit_id: expected one spatial unit for "
                               f"({constants.get('admin_boundary')!r}, "
                               f"{constants.get('eco_boundary')!r}), got {spu!r}",
                               source=db.name, field="spatial_unit")
    library.spu_ids = [int(spu)]

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
    )
    library.base = base
    return library


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
    spu_index = {spu: index for index, spu in enumerate(library.spu_ids)}
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


def _spinup_row(library: ParameterLibrary) -> Any:
    """spinup_parameters: its SQL query's row, or the object the variable holds (a FLINT
    variable may be a constant object; GCBM reads the same keys from either)."""
    view = library.project.variable("spinup_parameters")
    if not (isinstance(view.value, dict) and "transform" not in view.value):
        return library.evaluate("spinup_parameters")
    missing = [key for key in SPINUP_KEYS if key not in view.value]
    if missing:
        raise view.error(f"missing {', '.join(missing)}")
    return view.value


def _spinup(library: ParameterLibrary, disturbances: Disturbances) -> SpinupParameters:
    n = len(library.spu_ids)
    row = _spinup_row(library) if library.project.spinup_enabled else None
    if isinstance(row, list):
        row = row[0]
    minimum = library.project.spinup_variables.get("minimum_rotation", 10)

    full = lambda value, dtype=np.int64: np.full(n, value, dtype=dtype)  # noqa: E731
    if row is None:
        return SpinupParameters(full(1), full(1), full(-1, np.intp), full(-1, np.intp), full(0),
                                int(minimum), full(False, bool))
    spinup_row = row

    def type_idx(key: str) -> int:
        name = spinup_row[key]
        if name not in disturbances.type_names:
            raise ParameterDbError(f"spinup disturbance type {name!r} is not a disturbance type",
                                   source=library.db.name, field=f"spinup_parameters.{key}")
        return disturbances.type_index(name)

    if int(row["return_interval"]) < 1:
        raise ParameterDbError("return_interval must be >= 1", source=library.db.name,
                               field="spinup_parameter.return_interval")
    delay = row.get("inventory_delay", row.get("delay", 0)) or 0
    return SpinupParameters(full(int(row["return_interval"])), full(int(row["max_rotations"])),
                            full(type_idx("historic_disturbance_type"), np.intp),
                            full(type_idx("last_pass_disturbance_type"), np.intp),
                            full(int(delay)), int(minimum), full(True, bool))


__all__ = ["BlockParameters", "ConfigError", "ParameterLibrary", "load_parameters"]
