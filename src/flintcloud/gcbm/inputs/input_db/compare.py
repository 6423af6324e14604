"""How two `gcbm_input.db` files differ in their parameters, table by table.

Rows are matched by names, never by ids (ids differ between builders): spatial units by their
admin/eco boundary names, species and genera by name, disturbance matrices by the cbm_defaults id
their name starts with. A numeric value differs when it is not close within `rtol`/`atol`.
"""

from __future__ import annotations

import math
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

# A matrix' cbm_defaults id: the prefix of its name ("385_Wildfire for ...").
_DM_ID = "CAST(substr(dm.name, 1, instr(dm.name, '_') - 1) AS INTEGER)"
_SPU = ("spatial_unit AS spu INNER JOIN admin_boundary AS a ON a.id = spu.admin_boundary_id "
        "INNER JOIN eco_boundary AS e ON e.id = spu.eco_boundary_id")
_FACTOR_COLUMNS = (
    "a", "b", "a_nonmerch", "b_nonmerch", "k_nonmerch", "cap_nonmerch", "a_sap", "b_sap", "k_sap",
    "cap_sap", "a1", "a2", "a3", "b1", "b2", "b3", "c1", "c2", "c3", "min_volume", "max_volume",
    "low_stemwood_prop", "high_stemwood_prop", "low_stembark_prop", "high_stembark_prop",
    "low_branches_prop", "high_branches_prop", "low_foliage_prop", "high_foliage_prop")
_TURNOVER_COLUMNS = ("foliage", "stem", "branch", "stem_snag", "branch_snag", "coarse_root",
                     "fine_root", "branch_snag_split", "coarse_ag_split", "fine_ag_split")
_DM_VALUE = ("FROM disturbance_matrix_value AS v "
             "INNER JOIN disturbance_matrix AS dm ON dm.id = v.disturbance_matrix_id "
             "INNER JOIN pool AS source ON source.id = v.source_pool_id "
             "INNER JOIN pool AS sink ON sink.id = v.sink_pool_id")

# name -> (query, number of leading key columns). Key columns named admin_boundary/eco_boundary
# are what `compare_parameters(admin_boundary=..., eco_boundary=...)` filters on.
COMPARISONS: dict[str, tuple[str, int]] = {
    "pool": ("SELECT name FROM pool", 1),
    "decay_parameter": (
        "SELECT p.name AS pool, dp.base_decay_rate, dp.reference_temp, dp.q10, "
        "dp.prop_to_atmosphere, dp.max_rate FROM decay_parameter AS dp "
        "INNER JOIN dom_pool AS d ON d.id = dp.dom_pool_id INNER JOIN pool AS p ON p.id = d.pool_id",
        1),
    "spinup_parameter": (
        "SELECT a.name AS admin_boundary, e.name AS eco_boundary, "
        "dt.name AS historic_disturbance_type, sp.return_interval, sp.max_rotations, "
        f"sp.mean_annual_temperature FROM {_SPU} "
        "INNER JOIN spinup_parameter AS sp ON sp.id = spu.spinup_parameter_id "
        "INNER JOIN disturbance_type AS dt ON dt.id = sp.historic_disturbance_type_id", 2),
    "stump_parameter": (
        "SELECT a.name AS admin_boundary, s.sw_top_proportion, s.sw_stump_proportion, "
        "s.hw_top_proportion, s.hw_stump_proportion FROM admin_boundary AS a "
        "INNER JOIN stump_parameter AS s ON s.id = a.stump_parameter_id", 1),
    "root_parameter": (
        "SELECT a.name AS admin_boundary, e.name AS eco_boundary, s.name AS species, "
        f"r.hw_a, r.sw_a, r.hw_b, r.frp_a, r.frp_b, r.frp_c FROM {_SPU} "
        "INNER JOIN vol_to_bio_factor_association AS fa ON fa.spatial_unit_id = spu.id "
        "INNER JOIN species AS s ON s.id = fa.species_id "
        "INNER JOIN root_parameter AS r ON r.id = fa.root_parameter_id", 3),
    "species": (
        "SELECT s.name, g.name AS genus, ft.name AS forest_type FROM species AS s "
        "INNER JOIN genus AS g ON g.id = s.genus_id "
        "INNER JOIN forest_type AS ft ON ft.id = s.forest_type_id", 1),
    "vol_to_bio_factor": (
        "SELECT a.name AS admin_boundary, e.name AS eco_boundary, s.name AS species, "
        + ", ".join(f"f.{column}" for column in _FACTOR_COLUMNS) + f" FROM {_SPU} "
        "INNER JOIN vol_to_bio_factor_association AS fa ON fa.spatial_unit_id = spu.id "
        "INNER JOIN species AS s ON s.id = fa.species_id "
        "INNER JOIN vol_to_bio_factor AS f ON f.id = fa.vol_to_bio_factor_id", 3),
    "turnover_parameter": (
        "SELECT g.name AS genus, e.name AS eco_boundary, "
        + ", ".join(f"t.{column}" for column in _TURNOVER_COLUMNS) +
        " FROM turnover_parameter_association AS tpa "
        "INNER JOIN genus AS g ON g.id = tpa.genus_id "
        "INNER JOIN eco_boundary AS e ON e.id = tpa.eco_boundary_id "
        "INNER JOIN turnover_parameter AS t ON t.id = tpa.turnover_parameter_id", 2),
    "land_class": ("SELECT code, is_forest, years_to_permanent FROM land_class", 1),
    "disturbance_type": (
        "SELECT dt.name, dt.code, lc.code AS transition_land_class FROM disturbance_type AS dt "
        "LEFT JOIN land_class AS lc ON lc.id = dt.transition_land_class_id", 1),
    "disturbance_matrix": (f"SELECT {_DM_ID} AS cbm_matrix_id, dm.name "
                           "FROM disturbance_matrix AS dm", 1),
    "disturbance_matrix_association": (
        "SELECT a.name AS admin_boundary, e.name AS eco_boundary, dt.name AS disturbance_type, "
        f"{_DM_ID} AS cbm_matrix_id FROM {_SPU} "
        "INNER JOIN disturbance_matrix_association AS dma ON dma.spatial_unit_id = spu.id "
        "INNER JOIN disturbance_type AS dt ON dt.id = dma.disturbance_type_id "
        "INNER JOIN disturbance_matrix AS dm ON dm.id = dma.disturbance_matrix_id", 3),
    # Transfers and what stays behind are counted apart: the diagonal only says "the rest stays".
    "disturbance_matrix_value (transfers)": (
        f"SELECT {_DM_ID} AS cbm_matrix_id, source.name AS source, sink.name AS sink, "
        f"v.proportion {_DM_VALUE} WHERE v.source_pool_id <> v.sink_pool_id", 3),
    "disturbance_matrix_value (retained)": (
        f"SELECT {_DM_ID} AS cbm_matrix_id, source.name AS source, v.proportion {_DM_VALUE} "
        "WHERE v.source_pool_id = v.sink_pool_id", 2),
    "growth_multiplier_value": (
        "SELECT gms.description AS series, ft.name AS forest_type, gmv.time_step, gmv.value "
        "FROM growth_multiplier_value AS gmv "
        "INNER JOIN growth_multiplier_series AS gms ON gms.id = gmv.growth_multiplier_series_id "
        "INNER JOIN forest_type AS ft ON ft.id = gmv.forest_type_id", 3),
    "growth_curve_component_value": (
        "SELECT gc.description AS growth_curve, s.name AS species, v.age, v.merchantable_volume "
        "FROM growth_curve AS gc "
        "INNER JOIN growth_curve_component AS gcc ON gcc.growth_curve_id = gc.id "
        "INNER JOIN species AS s ON s.id = gcc.species_id "
        "INNER JOIN growth_curve_component_value AS v ON v.growth_curve_component_id = gcc.id", 3),
}


@dataclass(frozen=True, slots=True)
class TableComparison:
    """One table's rows in `built` against `reference`, matched on `key`."""

    table: str
    key: tuple[str, ...]
    n_common: int
    n_only_built: int
    n_only_reference: int
    n_differing: int  # common rows with at least one differing value
    differing_by_column: dict[str, int] = field(default_factory=dict)  # columns that differ only
    max_abs_difference: dict[str, float] = field(default_factory=dict)  # numeric columns
    examples: tuple[str, ...] = ()  # a few keys of differing or unmatched rows

    @property
    def is_equal(self) -> bool:
        return not (self.n_differing or self.n_only_built or self.n_only_reference)


@dataclass(frozen=True, slots=True)
class ParameterComparison:
    built: str
    reference: str
    tables: dict[str, TableComparison]

    def __getitem__(self, table: str) -> TableComparison:
        return self.tables[table]

    def to_markdown(self) -> str:
        lines = [f"Parameters of `{self.built}` against `{self.reference}`", "",
                 "| table | common rows | differing | only built | only reference | "
                 "differing columns (rows; max abs diff) |",
                 "|---|---|---|---|---|---|"]
        for item in self.tables.values():
            columns = ", ".join(
                f"{name} ({count}; {item.max_abs_difference[name]:.3g})"
                if name in item.max_abs_difference else f"{name} ({count})"
                for name, count in item.differing_by_column.items())
            lines.append(f"| {item.table} | {item.n_common} | {item.n_differing} | "
                         f"{item.n_only_built} | {item.n_only_reference} | {columns} |")
        return "\n".join(lines) + "\n"


def compare_parameters(
    built_db: str | Path,
    reference_db: str | Path,
    *,
    admin_boundary: str | None = None,
    eco_boundary: str | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> ParameterComparison:
    """Compare the parameters of two `gcbm_input.db` files (e.g. a built one and the demo's).

    With `admin_boundary`/`eco_boundary`, rows keyed by a spatial unit or ecozone are compared for
    that one only. `rtol`/`atol` are the tolerances of `math.isclose` for numeric values.
    """
    scope = {"admin_boundary": admin_boundary, "eco_boundary": eco_boundary}
    tables = {}
    for name, (query, n_keys) in COMPARISONS.items():
        columns, built = _keyed_rows(built_db, query, n_keys)
        _, reference = _keyed_rows(reference_db, query, n_keys)
        wanted = [(i, scope[column]) for i, column in enumerate(columns[:n_keys])
                  if scope.get(column) is not None]
        built = {k: v for k, v in built.items() if all(k[i] == value for i, value in wanted)}
        reference = {k: v for k, v in reference.items()
                     if all(k[i] == value for i, value in wanted)}
        tables[name] = _compare(name, columns, n_keys, built, reference, rtol, atol)
    return ParameterComparison(str(built_db), str(reference_db), tables)


def _keyed_rows(path, query: str, n_keys: int) -> tuple[list[str], dict[tuple, tuple]]:
    uri = Path(path).absolute().as_uri() + "?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        cursor = db.execute(query)
        columns = [description[0] for description in cursor.description]
        return columns, {tuple(row[:n_keys]): tuple(row[n_keys:]) for row in cursor}


def _compare(name, columns, n_keys, built, reference, rtol, atol) -> TableComparison:
    value_columns = columns[n_keys:]
    common = built.keys() & reference.keys()
    differing_by_column = dict.fromkeys(value_columns, 0)
    max_abs: dict[str, float] = {}
    differing_keys = []
    for key in sorted(common, key=repr):
        row_differs = False
        for column, mine, theirs in zip(value_columns, built[key], reference[key], strict=True):
            if _is_number(mine) and _is_number(theirs):
                difference = abs(mine - theirs)
                if not math.isclose(mine, theirs, rel_tol=rtol, abs_tol=atol):
                    max_abs[column] = max(max_abs.get(column, 0.0), difference)
                    differing_by_column[column] += 1
                    row_differs = True
            elif mine != theirs:
                differing_by_column[column] += 1
                row_differs = True
        if row_differs:
            differing_keys.append(key)
    only_built = sorted(built.keys() - common, key=repr)
    only_reference = sorted(reference.keys() - common, key=repr)
    examples = [f"differs: {_show(k)}" for k in differing_keys[:3]]
    examples += [f"only built: {_show(k)}" for k in only_built[:3]]
    examples += [f"only reference: {_show(k)}" for k in only_reference[:3]]
    return TableComparison(
        table=name, key=tuple(columns[:n_keys]), n_common=len(common),
        n_only_built=len(only_built), n_only_reference=len(only_reference),
        n_differing=len(differing_keys),
        differing_by_column={c: n for c, n in differing_by_column.items() if n},
        max_abs_difference=max_abs, examples=tuple(examples))


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _show(key: tuple) -> str:
    return " / ".join(str(part) for part in key)
