"""Compiled GCBM results: the v_* reporting tables of GCBM.CompileResults in an SQLite file.

`compile_results(results_db, output_db)` reads a `gcbm_output.db`, computes the tables
(`views.py`) and writes them, as tables, with upstream's columns: the classifier columns are
named after the results database's classifiers. The file appears only when complete.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from flintcloud.errors import InputError
from flintcloud.gcbm.outputs.compiled.indicators import IndicatorSet, load_indicators
from flintcloud.gcbm.outputs.compiled.views import PREVIOUS, compile_views
from flintcloud.gcbm.outputs.results_db import (
    ResultsTables,
    connect_read_only,
    python_values,
    read_results,
    table_columns,
)
from flintcloud.io.files import atomic_path

CLASSIFIERS = "<classifiers>"  # placeholder: one TEXT column per classifier
CLASSIFIERS_PREVIOUS = "<classifiers>_previous"  # the same, suffixed `_previous`
_DISTURBANCE = [CLASSIFIERS, CLASSIFIERS_PREVIOUS, ("unfccc_land_class", "TEXT"),
                ("unfccc_land_class_previous", "TEXT"), ("year", "INTEGER"),
                ("disturbance_code", "INTEGER"), ("disturbance_type", "TEXT")]
WRITE_CHUNK_ROWS = 100_000
_DENSITY = [("indicator", "TEXT"), ("year", "INTEGER"), ("flux_tc", "REAL"),
            ("flux_tc_per_ha", "REAL")]

# Every output table, its columns and SQLite types, in upstream's order.
LAYOUTS: dict[str, list] = {
    "v_flux_indicators": [("flux_indicator_id", "INTEGER"), CLASSIFIERS,
                          ("unfccc_land_class", "TEXT"), ("indicator", "TEXT"),
                          ("year", "INTEGER"), ("disturbance_code", "INTEGER"),
                          ("disturbance_type", "TEXT"), ("age_range", "TEXT"),
                          ("flux_tc", "REAL")],
    "v_flux_indicator_aggregates": [("flux_indicator_collection_id", "INTEGER"),
                                    ("indicator", "TEXT"), ("year", "INTEGER"), CLASSIFIERS,
                                    ("unfccc_land_class", "TEXT"), ("age_range", "TEXT"),
                                    ("flux_tc", "REAL")],
    "v_stock_change_indicators": [("indicator", "TEXT"), CLASSIFIERS,
                                  ("unfccc_land_class", "TEXT"), ("year", "INTEGER"),
                                  ("age_range", "TEXT"), ("flux_tc", "REAL")],
    "v_pool_indicators": [("indicator_id", "INTEGER"), CLASSIFIERS, ("unfccc_land_class", "TEXT"),
                          ("indicator", "TEXT"), ("year", "INTEGER"), ("age_range", "TEXT"),
                          ("pool_tc", "REAL")],
    "v_age_indicators": [("year", "INTEGER"), CLASSIFIERS, ("unfccc_land_class", "TEXT"),
                         ("age_range", "TEXT"), ("area", "REAL")],
    "v_error_indicators": [("year", "INTEGER"), CLASSIFIERS, ("module", "TEXT"),
                           ("error", "TEXT"), ("area", "REAL")],
    "v_disturbance_indicators": [*_DISTURBANCE, ("pre_dist_age_range", "TEXT"),
                                 ("post_dist_age_range", "TEXT"), ("dist_area", "REAL"),
                                 ("dist_carbon", "REAL"), ("dist_carbon_per_ha", "REAL")],
    "v_total_disturbed_areas": [*_DISTURBANCE, ("dist_area", "REAL")],
    "v_disturbance_fluxes": [*_DISTURBANCE, ("pre_dist_age_range", "TEXT"),
                             ("post_dist_age_range", "TEXT"), ("from_pool", "TEXT"),
                             ("to_pool", "TEXT"), ("flux_tc", "REAL")],
    "v_flux_indicators_density": _DENSITY,
    "v_flux_indicator_aggregates_density": _DENSITY,
    "v_stock_change_indicators_density": _DENSITY,
}


@dataclass(frozen=True)
class CompiledTables:
    """The compiled tables in memory; each frame has exactly `columns(table, classifiers)`."""

    tables: dict[str, pd.DataFrame]
    classifiers: tuple[str, ...]

    def merge(self, other: CompiledTables) -> CompiledTables:
        """Tables compiled in parts (e.g. in two processes), in the usual order."""
        tables = self.tables | other.tables
        return CompiledTables({name: tables[name] for name in LAYOUTS if name in tables},
                              self.classifiers)


def columns(table: str, classifiers: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, SQLite type) of each column of output `table` for these classifiers."""
    expanded = []
    for column in LAYOUTS[table]:
        if column == CLASSIFIERS:
            expanded += [(name, "TEXT") for name in classifiers]
        elif column == CLASSIFIERS_PREVIOUS:
            expanded += [(f"{name}{PREVIOUS}", "TEXT") for name in classifiers]
        else:
            expanded.append(column)
    return expanded


def _check_classifier_names(results: ResultsTables) -> None:
    # SQLite matches column names case-insensitively: a classifier called "Year", or "A" next
    # to "A_previous", would make two columns of one name.
    for table in LAYOUTS:
        names = [name.lower() for name, _ in columns(table, results.classifiers)]
        clashes = [name for suffix in ("", PREVIOUS) for name in results.classifiers
                   if names.count(f"{name}{suffix}".lower()) > 1]
        if clashes:
            raise InputError(f"classifier name collides with a column of {table}",
                             source=results.source,
                             field=f"table ClassifierSetDimension, column {clashes[0]}",
                             hint="rename the classifier")


def compile_tables(results_db: str | Path | ResultsTables,
                   indicators: IndicatorSet | str | Path | None = None, *,
                   views: Collection[str] | None = None) -> CompiledTables:
    """The compiled tables of a results database (a path or tables already read), in memory;
    `views`: only these tables (see `CompiledTables.merge`)."""
    results = results_db if isinstance(results_db, ResultsTables) else read_results(results_db)
    if not isinstance(indicators, IndicatorSet):
        indicators = load_indicators(indicators)
    _check_classifier_names(results)
    # Classifiers travel under working names that no other column can have (':' is not allowed
    # in a classifier name), and get their own names back at the end.
    working = tuple(f"classifier:{i}" for i in range(len(results.classifiers)))
    renamed = results.ClassifierSetDimension.rename(columns=dict(zip(results.classifiers,
                                                                     working, strict=True)))
    views = compile_views(replace(results, classifiers=working, ClassifierSetDimension=renamed),
                          indicators, views)
    names: dict[str, str] = {}
    for work, name in zip(working, results.classifiers, strict=True):
        names |= {work: name, f"{work}{PREVIOUS}": f"{name}{PREVIOUS}"}
    return CompiledTables({table: _typed(frame.rename(columns=names),
                                         columns(table, results.classifiers))
                           for table, frame in views.items()}, results.classifiers)


def _typed(frame: pd.DataFrame, layout: list[tuple[str, str]]) -> pd.DataFrame:
    """The layout's columns, in order; INTEGER columns as nullable integers."""
    frame = frame[[name for name, _ in layout]].reset_index(drop=True)
    return frame.astype({name: "Int64" for name, kind in layout if kind == "INTEGER"})


def compile_results(results_db: str | Path, output_db: str | Path, *,
                    indicators: IndicatorSet | str | Path | None = None) -> Path:
    """Compile a GCBM results database into `output_db` (replaced if it exists); returns its path.

    The tables are GCBM.CompileResults' v_* tables (gcbm-spec.md §6.3); see
    docs/compiled-indicators.md. Written to a temporary file that is renamed when complete.
    """
    return write_compiled_db(compile_tables(results_db, indicators), output_db)


def write_compiled_db(compiled: CompiledTables, output_db: str | Path) -> Path:
    """Write compiled tables as one SQLite file, atomically."""
    output_db = check_output_path(output_db)
    with atomic_path(output_db) as temporary, closing(sqlite3.connect(temporary)) as connection:
        # No journal: the file is a private temporary that is discarded if anything fails.
        connection.execute("PRAGMA journal_mode = OFF")
        with connection:
            for table, frame in compiled.tables.items():
                _write_table(connection, table, frame, columns(table, compiled.classifiers))
    return output_db


def check_output_path(path: str | Path) -> Path:
    """An output file's path, if its directory exists and it is not a directory itself."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"directory {path.parent} does not exist", source=str(path))
    if path.is_dir():
        raise InputError("is a directory, not a file", source=str(path))
    return path


def _write_table(connection: sqlite3.Connection, table: str, frame: pd.DataFrame,
                 layout: list[tuple[str, str]]) -> None:
    # Table names come from LAYOUTS and column names from it or from validated classifiers.
    ddl = ", ".join(f'"{name}" {kind}' for name, kind in layout)
    connection.execute(f'CREATE TABLE "{table}" ({ddl})')
    insert = f'INSERT INTO "{table}" VALUES ({", ".join("?" for _ in layout)})'
    # In slices: the Python objects sqlite3 binds take ~10x the memory of the frame's columns.
    for start in range(0, len(frame), WRITE_CHUNK_ROWS):
        chunk = frame.iloc[start:start + WRITE_CHUNK_ROWS]
        rows = zip(*(python_values(chunk[name]) for name, _ in layout), strict=True)
        connection.executemany(insert, rows)


def read_compiled_table(path: str | Path, table: str, names: list[str],
                        indicators: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Some columns of a compiled table, only the rows of `indicators` if given.

    `names` must be non-classifier columns of the table's layout. InputError names a missing
    table or column.
    """
    layout = {name for name, _ in columns(table, ())}  # KeyError for an unknown table
    unknown = [name for name in names if name not in layout]
    if unknown:
        raise ValueError(f"{table} has no column(s) {', '.join(unknown)}")
    connection = connect_read_only(path)
    try:
        present = table_columns(connection)
        if table.lower() not in present:
            raise InputError("missing table", source=str(path), field=f"table {table}",
                             hint="is this a compiled GCBM results database?")
        lowered = {name.lower() for name in present[table.lower()]}
        for name in names:
            if name.lower() not in lowered:
                raise InputError("missing column", source=str(path),
                                 field=f"table {table}, column {name}")
        # Table and column names are fixed names from LAYOUTS; the indicators are parameters.
        select = ", ".join(f'"{name}"' for name in names)
        sql = f'SELECT {select} FROM "{table}"'
        if indicators is not None:
            sql += f' WHERE "indicator" IN ({", ".join("?" for _ in indicators)})'
        return pd.read_sql_query(sql, connection, params=list(indicators or ()))
    finally:
        connection.close()
