"""GCBM results databases: `gcbm_output.db`, CBMAggregatorSQLiteWriter's star schema (gcbm-spec.md
§6.2).

`read_results` loads the tables that compiling needs, after checking that the file is SQLite and
has every table and column; `write_results_db` writes the schema (a run's results, from
`results_tables.results_tables`; tests and benchmarks also build synthetic results with it).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from flintcloud.errors import InputError
from flintcloud.gcbm.outputs.layout import RESULTS_DB
from flintcloud.gcbm.project.config import GcbmProject
from flintcloud.io.files import atomic_path

CLASSIFIER_TABLE = "ClassifierSetDimension"
# Columns of ClassifierSetDimension that are not classifiers (jobid: upstream's distributed runs).
NON_CLASSIFIER_COLUMNS = {"id", "jobid"}
# Classifier names become output column names; GCBM already replaces '.' and ' ' with '_'.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
READ_CHUNK_ROWS = 250_000

# The columns of GCBM's SQLite results schema, with its declared types, in its order.
SCHEMA: dict[str, dict[str, str]] = {
    "DateDimension": {"id": "UNSIGNED BIG INT PRIMARY KEY", "step": "INTEGER", "year": "INTEGER",
                      "month": "INTEGER", "day": "INTEGER", "fracOfStep": "FLOAT",
                      "lengthOfStepInYears": "FLOAT"},
    "PoolDimension": {"id": "UNSIGNED BIG INT PRIMARY KEY", "poolName": "VARCHAR(255)"},
    "LandClassDimension": {"id": "UNSIGNED BIG INT PRIMARY KEY", "name": "VARCHAR(255)"},
    "ModuleInfoDimension": {"id": "UNSIGNED BIG INT PRIMARY KEY", "libraryType": "INTEGER",
                            "libraryInfoId": "INTEGER", "moduleType": "INTEGER",
                            "moduleId": "INTEGER", "moduleName": "VARCHAR(255)"},
    "AgeClassDimension": {"id": "UNSIGNED INT PRIMARY KEY", "startAge": "UNSIGNED INT",
                          "endAge": "UNSIGNED INT"},
    "LocationDimension": {"id": "UNSIGNED BIG INT PRIMARY KEY",
                          "classifierSetDimId": "UNSIGNED BIG INT", "dateDimId": "UNSIGNED BIG INT",
                          "landClassDimId": "UNSIGNED BIG INT", "ageClassDimId": "UNSIGNED INT",
                          "area": "FLOAT"},
    "DisturbanceTypeDimension": {"id": "UNSIGNED BIG INT PRIMARY KEY",
                                 "disturbanceType": "INTEGER",
                                 "disturbanceTypeName": "VARCHAR(255)"},
    "DisturbanceDimension": {"id": "UNSIGNED BIG INT PRIMARY KEY",
                             "locationDimId": "UNSIGNED BIG INT",
                             "disturbanceTypeDimId": "UNSIGNED BIG INT",
                             "previousLocationDimId": "UNSIGNED INT", "area": "FLOAT"},
    "Pools": {"id": "UNSIGNED BIG INT PRIMARY KEY", "locationDimId": "UNSIGNED BIG INT",
              "poolId": "UNSIGNED BIG INT", "poolValue": "FLOAT"},
    "Fluxes": {"id": "UNSIGNED BIG INT PRIMARY KEY", "locationDimId": "UNSIGNED BIG INT",
               "moduleInfoDimId": "UNSIGNED BIG INT", "disturbanceDimId": "UNSIGNED BIG INT",
               "poolSrcDimId": "UNSIGNED BIG INT", "poolDstDimId": "UNSIGNED BIG INT",
               "fluxValue": "FLOAT"},
    "ErrorDimension": {"id": "UNSIGNED BIG INT PRIMARY KEY", "module": "VARCHAR",
                       "error": "VARCHAR"},
    "LocationErrorDimension": {"id": "UNSIGNED BIG INT", "locationDimId": "UNSIGNED BIG INT",
                               "errorDimId": "UNSIGNED BIG INT"},
    "AgeArea": {"id": "UNSIGNED BIG INT PRIMARY KEY", "locationDimId": "UNSIGNED BIG INT",
                "ageClassDimId": "UNSIGNED INT", "area": "FLOAT"},
}

# What compiling reads: table -> columns (ModuleInfoDimension and the row ids of fact tables
# are not needed). Checked before reading, so a missing one is named.
REQUIRED: dict[str, tuple[str, ...]] = {
    "DateDimension": ("id", "year"),
    "PoolDimension": ("id", "poolName"),
    "LandClassDimension": ("id", "name"),
    "AgeClassDimension": ("id", "startAge", "endAge"),
    "LocationDimension": ("id", "classifierSetDimId", "dateDimId", "landClassDimId",
                          "ageClassDimId", "area"),
    "DisturbanceTypeDimension": ("id", "disturbanceType", "disturbanceTypeName"),
    "DisturbanceDimension": ("id", "locationDimId", "disturbanceTypeDimId",
                             "previousLocationDimId", "area"),
    "Pools": ("locationDimId", "poolId", "poolValue"),
    "Fluxes": ("locationDimId", "moduleInfoDimId", "disturbanceDimId", "poolSrcDimId",
               "poolDstDimId", "fluxValue"),
    "ErrorDimension": ("id", "module", "error"),
    "LocationErrorDimension": ("locationDimId", "errorDimId"),
    "AgeArea": ("locationDimId", "ageClassDimId", "area"),
}


@dataclass(frozen=True)
class ResultsTables:
    """A results database in memory: one DataFrame per table, columns named as in SCHEMA."""

    classifiers: tuple[str, ...]
    ClassifierSetDimension: pd.DataFrame  # id, one column per classifier
    DateDimension: pd.DataFrame
    PoolDimension: pd.DataFrame
    LandClassDimension: pd.DataFrame
    AgeClassDimension: pd.DataFrame
    LocationDimension: pd.DataFrame
    DisturbanceTypeDimension: pd.DataFrame
    DisturbanceDimension: pd.DataFrame
    Pools: pd.DataFrame
    Fluxes: pd.DataFrame
    ErrorDimension: pd.DataFrame
    LocationErrorDimension: pd.DataFrame
    AgeArea: pd.DataFrame
    ModuleInfoDimension: pd.DataFrame | None = None  # not read: compiling needs only its ids
    source: str = "results database"


def connect_read_only(path: str | Path) -> sqlite3.Connection:
    """Open an existing SQLite file read-only; InputError if it is missing or not SQLite."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", source=str(path))
    # mode=ro: sqlite3.connect would otherwise create a missing file, and never write to inputs.
    connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        connection.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.DatabaseError as err:
        connection.close()
        raise InputError(f"not an SQLite database ({err})", source=str(path)) from err
    return connection


def table_columns(connection: sqlite3.Connection) -> dict[str, list[str]]:
    """Lower-cased table name -> column names as declared (SQLite names are case-insensitive)."""
    names = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
    return {name.lower(): [row[0] for row in connection.execute(
        "SELECT name FROM pragma_table_info(?)", (name,))] for name in names}


def read_results(path: str | Path) -> ResultsTables:
    """Load the tables of a GCBM results database that compiling needs, checked first."""
    source = str(path)
    connection = connect_read_only(path)
    try:
        columns = table_columns(connection)
        classifiers = _classifiers(columns, source)
        for table, required in REQUIRED.items():
            _require(columns, table, required, source)
        frames = {table: _read(connection, table, required, source)
                  for table, required in REQUIRED.items()}
        frames[CLASSIFIER_TABLE] = _read(connection, CLASSIFIER_TABLE, ("id", *classifiers),
                                         source)
    except sqlite3.DatabaseError as err:
        raise InputError(f"cannot read the results database ({err})", source=source) from err
    finally:
        connection.close()
    return ResultsTables(classifiers=classifiers, source=source, **frames)


def _require(columns: dict, table: str, required, source: str) -> None:
    if table.lower() not in columns:
        raise InputError("missing table", source=source, field=f"table {table}",
                         hint="is this a GCBM results database (gcbm_output.db)?")
    present = {name.lower() for name in columns[table.lower()]}
    missing = [name for name in required if name.lower() not in present]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", source=source,
                         field=f"table {table}, column {missing[0]}",
                         hint="is this a GCBM results database (gcbm_output.db)?")


def _classifiers(columns: dict, source: str) -> tuple[str, ...]:
    _require(columns, CLASSIFIER_TABLE, ("id",), source)
    names = tuple(name for name in columns[CLASSIFIER_TABLE.lower()]
                  if name.lower() not in NON_CLASSIFIER_COLUMNS)
    for name in names:
        if not IDENTIFIER.match(name):
            raise InputError("classifier name is not an identifier (letters, digits, '_')",
                             source=source, field=f"table {CLASSIFIER_TABLE}, column {name}")
    return names


def _read(connection: sqlite3.Connection, table: str, columns, source: str) -> pd.DataFrame:
    # Identifiers are fixed names from REQUIRED or classifier names checked against IDENTIFIER.
    select = ", ".join(f'"{name}"' for name in columns)
    # In chunks: fetching millions of rows at once holds them all as Python tuples first.
    chunks = pd.read_sql_query(f'SELECT {select} FROM "{table}"', connection,
                               chunksize=READ_CHUNK_ROWS)
    frame = pd.concat(chunks, ignore_index=True)
    frame.columns = list(columns)  # as declared here, whatever case the database uses
    for name in columns:
        if _is_numeric(table, name) and not pd.api.types.is_numeric_dtype(frame[name]):
            # An all-NULL chunk comes back as None objects; SQLite may also hold text here.
            try:
                frame[name] = pd.to_numeric(frame[name])
            except (ValueError, TypeError) as err:
                raise InputError(f"non-numeric value(s) ({err})", source=source,
                                 field=f"table {table}, column {name}") from err
    return frame


def _is_numeric(table: str, column: str) -> bool:
    declared = SCHEMA.get(table, {}).get(column, "INTEGER" if column == "id" else "VARCHAR")
    return not declared.startswith("VARCHAR")


def write_results_db(path: str | Path, tables: ResultsTables) -> Path:
    """Write `tables` in GCBM's results schema, replacing `path` atomically. A frame's missing
    `id` column is numbered 1..n; other missing columns are NULL."""
    path = Path(path)
    schema = {CLASSIFIER_TABLE: {"id": "UNSIGNED BIG INT PRIMARY KEY",
                                 **{name: "VARCHAR" for name in tables.classifiers}}, **SCHEMA}
    with atomic_path(path) as temporary, closing(sqlite3.connect(temporary)) as connection:
        with connection:
            for table, declared in schema.items():
                frame = getattr(tables, table)
                frame = pd.DataFrame() if frame is None else frame
                ddl = ", ".join(f'"{name}" {kind}' for name, kind in declared.items())
                connection.execute(f'CREATE TABLE "{table}" ({ddl})')
                marks = ", ".join("?" for _ in declared)
                connection.executemany(f'INSERT INTO "{table}" VALUES ({marks})',
                                       _rows(frame, list(declared)))
    return path


def _rows(frame: pd.DataFrame, columns: list[str]) -> Iterator[tuple[Any, ...]]:
    """The frame's values as Python objects (NULL for NaN/NA), in `columns` order."""
    n = len(frame)
    values: list[Sequence[Any]] = []
    for name in columns:
        if name in frame:
            values.append(python_values(frame[name]))
        elif name == "id":
            values.append(range(1, n + 1))
        else:
            values.append([None] * n)
    return zip(*values, strict=True)


def python_values(series: pd.Series) -> list:
    """A column as a list of Python scalars with None for missing values (what sqlite3 binds)."""
    if not series.hasnans:  # the common case, and much faster: tolist() gives Python scalars
        return series.tolist()
    return series.astype(object).where(series.notna(), None).tolist()




def results_db_name(project: GcbmProject) -> str | None:
    """The file name CBMAggregatorSQLiteWriter's `databasename` asks for (in the run's folder,
    whatever its path); None when the module is off."""
    module = project.modules.get("CBMAggregatorSQLiteWriter")
    if module is None:
        return None
    settings = module.child("settings")
    name = Path(settings.string("databasename", RESULTS_DB).replace("\\", "/")).name
    if not name or name.startswith("."):
        raise settings.error(f"databasename {name!r} is not a file name", "databasename")
    return name


def check_reporting_classifiers(project: GcbmProject) -> None:
    """The results are reported by classifier set, plus other variables as extra columns: a
    reporting set without the classifier set is refused."""
    module = project.modules.get("CBMAggregatorLandUnitData")
    if module is None or "settings" not in module:
        return
    settings = module.child("settings")
    name = settings.string("reporting_classifier_set", "classifier_set")
    if name == "classifier_set":
        return
    variable = project.variable(name).value
    transform = variable.get("transform", {}) if isinstance(variable, dict) else {}
    names = transform.get("vars")
    if transform.get("type") != "CompositeTransform" or not isinstance(names, list) or \
            "classifier_set" not in names:
        raise settings.error(f"reporting classifier set {name!r} must be a CompositeTransform "
                             "of classifier_set and other variables", "reporting_classifier_set")
