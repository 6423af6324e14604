"""Build GCBM's `gcbm_input.db` from CBM-CFS3's default parameters plus the user's yield tables.

The default parameters come from a `cbm_defaults` SQLite database (the one libcbm ships, unless the
caller names another); `sql/defaults.sql` maps it table by table onto GCBM's schema
(`sql/schema.sql`). The user's classifiers, growth curves and a default transition are added here.
"""

from __future__ import annotations

import difflib
import sqlite3
import warnings
from contextlib import closing
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from flintcloud.errors import InputError, ParameterDbError
from flintcloud.gcbm.inputs.input_db.yield_tables import WILDCARD, YieldTables, read_yield_tables
from flintcloud.io.files import atomic_path

# The cbm_defaults tables that defaults.sql reads.
CBM_DEFAULTS_TABLES = (
    "admin_boundary", "admin_boundary_tr", "decay_parameter", "disturbance_matrix",
    "disturbance_matrix_association", "disturbance_matrix_tr", "disturbance_matrix_value",
    "disturbance_type", "disturbance_type_tr", "dom_pool", "eco_boundary", "eco_boundary_tr",
    "forest_type", "forest_type_tr", "genus", "genus_tr", "growth_multiplier_series",
    "growth_multiplier_value", "land_type", "locale", "pool", "root_parameter", "spatial_unit",
    "species", "species_tr", "spinup_parameter", "stump_parameter", "turnover_parameter",
    "vol_to_bio_factor", "vol_to_bio_forest_type", "vol_to_bio_genus", "vol_to_bio_species",
)
# GCBM grows only these two forest types (its yield-table queries name them literally).
GROWING_FOREST_TYPES = ("Softwood", "Hardwood")
_SIDE = {"Softwood": "sw", "Hardwood": "hw"}  # defaults.sql's genus_side values


@dataclass(frozen=True, slots=True)
class BuildSummary:
    """What `build_input_db` wrote."""

    path: Path
    cbm_defaults_path: Path
    spatial_unit_id: int  # of the requested admin/eco boundary pair
    n_growth_curves: int
    n_components: int


def build_input_db(
    output_path: str | Path,
    *,
    yield_tables: str | Path | YieldTables,
    admin_boundary: str,
    eco_boundary: str,
    classifiers: list[str] | tuple[str, ...] | None = None,
    species_column: str = "species",
    cbm_defaults_path: str | Path | None = None,
    locale: str = "en-CA",
) -> BuildSummary:
    """Write a complete `gcbm_input.db` at `output_path`.

    Every spatial unit, species, disturbance type and matrix of cbm_defaults is written, so layers
    may reference any of them; `admin_boundary`/`eco_boundary` name the spatial unit the project
    runs in, against which the yield tables are checked (every species needs volume-to-biomass
    parameters there). `yield_tables` is a CSV path (see `read_yield_tables`, which `classifiers`
    and `species_column` are passed to) or tables already read. Names (boundaries, species,
    disturbance types, matrices) are taken in `locale`. The file appears only when complete.
    """
    tables = (yield_tables if isinstance(yield_tables, YieldTables)
              else read_yield_tables(yield_tables, classifiers=classifiers,
                                     species_column=species_column))
    defaults = Path(cbm_defaults_path) if cbm_defaults_path else default_cbm_defaults_path()
    output = Path(output_path)
    with atomic_path(output) as partial:
        with closing(sqlite3.connect(partial, isolation_level=None)) as db:
            db.execute("PRAGMA foreign_keys = ON")
            db.executescript(_sql("schema.sql"))
            _attach_cbm_defaults(db, defaults)
            locale_id = _locale_id(db, locale, defaults)
            spatial_unit_id = _spatial_unit_id(db, admin_boundary, eco_boundary, locale_id,
                                               defaults)
            species_ids = _species_ids(db, tables, locale_id)
            _copy_defaults(db, locale_id, defaults)
            _check_species_parameters(db, tables, species_ids, spatial_unit_id,
                                      f"{admin_boundary} / {eco_boundary}")
            db.execute("BEGIN")
            _insert_growth_curves(db, tables, species_ids)
            _insert_default_transition(db)
            db.execute("COMMIT")
            db.execute("DETACH DATABASE cbm")
    return BuildSummary(
        path=output, cbm_defaults_path=defaults, spatial_unit_id=spatial_unit_id,
        n_growth_curves=len(tables.curves),
        n_components=sum(len(curve.components) for curve in tables.curves))


def default_cbm_defaults_path() -> Path:
    """The cbm_defaults database that libcbm ships."""
    try:
        from libcbm import resources as libcbm_resources
    except ImportError as err:
        raise InputError("libcbm is not installed; it provides the default CBM-CFS3 parameters "
                         "(cbm_defaults)", field="cbm_defaults",
                         hint="install flintcloud[gcbm-db] (./run.sh does; or pip install "
                              "'flintcloud[gcbm-db]'), or name a cbm_defaults database with "
                              "--cbm-defaults (gcbm build-db, gcbm demo)") from err
    return Path(libcbm_resources.get_cbm_defaults_path())


def _sql(name: str) -> str:
    return resources.files("flintcloud.gcbm.inputs.input_db").joinpath("sql", name).read_text("utf-8")


def _attach_cbm_defaults(db: sqlite3.Connection, path: Path) -> None:
    source = str(path)
    if not path.is_file():
        raise ParameterDbError("file not found", source=source, field="cbm_defaults")
    try:
        # Read-only: never touch the caller's (or libcbm's) copy.
        db.execute("ATTACH DATABASE ? AS cbm", (path.absolute().as_uri() + "?mode=ro",))
        present = {name for (name,) in db.execute(
            "SELECT name FROM cbm.sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as err:
        raise ParameterDbError(f"not a SQLite database: {err}", source=source,
                               field="cbm_defaults") from err
    missing = [name for name in CBM_DEFAULTS_TABLES if name not in present]
    if missing:
        raise ParameterDbError(f"not a cbm_defaults database: table(s) {', '.join(missing)} "
                               "missing", source=source, field="cbm_defaults")


def _copy_defaults(db: sqlite3.Connection, locale_id: int, defaults: Path) -> None:
    db.execute("CREATE TEMPORARY TABLE build_locale AS SELECT ? AS locale_id", (locale_id,))
    try:
        db.executescript(_sql("defaults.sql"))
    except sqlite3.DatabaseError as err:  # e.g. a foreign key a modified cbm_defaults breaks
        raise ParameterDbError(f"cannot map onto GCBM's schema: {err}", source=str(defaults),
                               field="cbm_defaults") from err


def _locale_id(db: sqlite3.Connection, locale: str, defaults: Path) -> int:
    codes = dict(db.execute("SELECT code, id FROM cbm.locale"))
    if locale not in codes:
        raise ParameterDbError(f"unknown locale {locale!r}; available: {', '.join(codes)}",
                               source=str(defaults), field="locale")
    return codes[locale]


def _spatial_unit_id(db, admin_boundary: str, eco_boundary: str, locale_id: int,
                     defaults: Path) -> int:
    admin_id = _boundary_id(db, "admin_boundary", admin_boundary, locale_id, defaults)
    eco_id = _boundary_id(db, "eco_boundary", eco_boundary, locale_id, defaults)
    row = db.execute("SELECT id FROM cbm.spatial_unit WHERE admin_boundary_id = ? "
                     "AND eco_boundary_id = ?", (admin_id, eco_id)).fetchone()
    if row is None:
        ecos = [name for (name,) in db.execute(
            "SELECT tr.name FROM cbm.spatial_unit AS spu INNER JOIN cbm.eco_boundary_tr AS tr "
            "ON tr.eco_boundary_id = spu.eco_boundary_id AND tr.locale_id = ? "
            "WHERE spu.admin_boundary_id = ? ORDER BY tr.name", (locale_id, admin_id))]
        raise InputError(f"no spatial unit for {admin_boundary} / {eco_boundary}; "
                         f"{admin_boundary} has the eco boundaries {', '.join(ecos)}",
                         source=str(defaults), field="eco_boundary")
    return row[0]


def _boundary_id(db, table: str, name: str, locale_id: int, defaults: Path) -> int:
    names = dict(db.execute(f"SELECT name, {table}_id FROM cbm.{table}_tr WHERE locale_id = ?",
                            (locale_id,)))
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        raise InputError(f"unknown {table.replace('_', ' ')} {name!r}; valid: "
                         f"{', '.join(sorted(names))}", source=str(defaults), field=table,
                         hint=f"did you mean {close[0]!r}?" if close else None)
    return names[name]


def _species_ids(db, tables: YieldTables, locale_id: int) -> dict[str, int]:
    """Yield-table species name (folded to lower case) -> cbm_defaults species id."""
    rows = db.execute(
        "SELECT tr.name, s.id, ft.name FROM cbm.species AS s "
        "INNER JOIN cbm.species_tr AS tr ON tr.species_id = s.id AND tr.locale_id = ? "
        "INNER JOIN cbm.forest_type_tr AS ft ON ft.forest_type_id = s.forest_type_id "
        "INNER JOIN cbm.locale ON locale.id = ft.locale_id AND locale.code = 'en-CA'",
        (locale_id,)).fetchall()
    known = {name.lower(): (name, species_id, forest_type) for name, species_id, forest_type in rows}
    ids = {}
    for curve in tables.curves:
        for component in curve.components:
            folded = component.species.lower()
            if folded not in known:
                close = difflib.get_close_matches(folded, known, n=5, cutoff=0.5)
                suggestion = (", ".join(repr(known[name][0]) for name in close)
                              if close else "none; see the species_tr table of cbm_defaults")
                raise InputError(f"line {component.line}: unknown species "
                                 f"{component.species!r}; closest CBM species: {suggestion}",
                                 source=tables.source, field=tables.species_column)
            name, species_id, forest_type = known[folded]
            if forest_type not in GROWING_FOREST_TYPES:
                raise InputError(f"line {component.line}: species {name!r} is of forest type "
                                 f"{forest_type}; GCBM grows only softwood and hardwood species",
                                 source=tables.source, field=tables.species_column)
            ids[folded] = species_id
    return ids


def _check_species_parameters(db, tables: YieldTables, species_ids: dict[str, int],
                              spatial_unit_id: int, spatial_unit: str) -> None:
    """Every yield-table species needs volume-to-biomass factors in the project's spatial unit."""
    rows = db.execute(
        "SELECT s.id, ft.name, g.name, side.side, EXISTS ("
        "  SELECT 1 FROM vol_to_bio_factor_association AS a"
        "  WHERE a.spatial_unit_id = ? AND a.species_id = s.id) "
        "FROM species AS s "
        "INNER JOIN forest_type AS ft ON ft.id = s.forest_type_id "
        "INNER JOIN genus AS g ON g.id = s.genus_id "
        "INNER JOIN genus_side AS side ON side.genus_id = s.genus_id", (spatial_unit_id,))
    species = {species_id: rest for species_id, *rest in rows}
    for curve in tables.curves:
        for component in curve.components:
            forest_type, genus, turnover_side, has_factors = species[
                species_ids[component.species.lower()]]
            if not has_factors:
                raise InputError(f"line {component.line}: species {component.species!r} has no "
                                 f"volume-to-biomass parameters in {spatial_unit}",
                                 source=tables.source, field=tables.species_column,
                                 hint="choose a species or genus CBM parameterises there")
            if turnover_side != _SIDE[forest_type]:
                # GCBM looks turnover up by genus (defaults.sql: genus_side), and this genus
                # mixes softwood and hardwood species.
                warnings.warn(
                    f"{tables.source}: line {component.line}: {forest_type.lower()} species "
                    f"{component.species!r} is of genus {genus!r}, which gets "
                    f"{'softwood' if turnover_side == 'sw' else 'hardwood'} turnover rates in "
                    "GCBM; prefer a species of a genus with one forest type", stacklevel=3)


def _insert_growth_curves(db, tables: YieldTables, species_ids: dict[str, int]) -> None:
    value_ids: dict[tuple[int, str], int] = {}  # (classifier id, value) -> classifier_value id
    for classifier_id, name in enumerate(tables.classifiers, start=1):
        db.execute("INSERT INTO classifier (id, name) VALUES (?, ?)", (classifier_id, name))
        values = dict.fromkeys(curve.classifier_values[classifier_id - 1]
                               for curve in tables.curves)
        for value in [*values, *([WILDCARD] if WILDCARD not in values else [])]:
            cursor = db.execute("INSERT INTO classifier_value (classifier_id, value, description) "
                                "VALUES (?, ?, ?)", (classifier_id, value, value))
            value_ids[classifier_id, value] = cursor.lastrowid
    component_id = 0
    for curve_id, curve in enumerate(tables.curves, start=1):
        db.execute("INSERT INTO growth_curve (id, description) VALUES (?, ?)",
                   (curve_id, curve.description))
        db.executemany("INSERT INTO growth_curve_classifier_value VALUES (?, ?)",
                       [(curve_id, value_ids[classifier_id, value])
                        for classifier_id, value in enumerate(curve.classifier_values, start=1)])
        for component in curve.components:
            component_id += 1
            db.execute("INSERT INTO growth_curve_component (id, growth_curve_id, species_id) "
                       "VALUES (?, ?, ?)",
                       (component_id, curve_id, species_ids[component.species.lower()]))
            db.executemany("INSERT INTO growth_curve_component_value VALUES (?, ?, ?)",
                           [(component_id, age, volume)
                            for age, volume in zip(component.ages, component.volumes, strict=True)])


def _insert_default_transition(db) -> None:
    """Transition 1: absolute age 0, no regeneration delay, classifiers unchanged (as the demo)."""
    db.execute("INSERT INTO transition (id, transition_type_id, age, regen_delay, description) "
               "SELECT 1, id, 0, 0, 'default: age 0, no regeneration delay' "
               "FROM transition_type WHERE name = 'absolute'")
    db.execute("INSERT INTO transition_classifier_value (transition_id, classifier_value_id) "
               "SELECT 1, id FROM classifier_value WHERE value = ?", (WILDCARD,))
