"""Read and rename the tables and columns of an input database (upstream FLINT.Cloud's table
and column endpoints). Every name is checked against the actual schema before any change, so a
name given by a user is only ever used quoted, and only after it was found or validated."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

from flintcloud.errors import InputError
from flintcloud.gcbm.inputs.checks import GCBM_TABLES

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def quote_identifier(name: str) -> str:
    """An SQL identifier, double-quoted (only ever applied to names checked against the schema)."""
    return '"' + name.replace('"', '""') + '"'


def read_schema(database: Path) -> dict[str, list[str]]:
    """{table: [column, ...]} of the database, tables by name, columns in their order."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        return _schema(connection)


def rename_table(database: Path, previous: str, new: str) -> None:
    """Rename a table; both names are checked against the actual schema, never trusted.
    GCBM's own tables keep their names."""
    with closing(sqlite3.connect(database)) as connection, connection:
        schema = _schema(connection)
        if previous not in schema:
            raise InputError(f"no table {previous!r} in the input database", field="previous")
        if previous in GCBM_TABLES:
            raise InputError(f"table {previous!r} is required by GCBM and cannot be renamed",
                             field="previous")
        _check_new_name(new, list(schema), "new")
        connection.execute(f"ALTER TABLE {quote_identifier(previous)} "
                           f"RENAME TO {quote_identifier(new)}")


def rename_columns(database: Path, renames: object) -> dict[str, dict[str, list[str]]]:
    """Rename columns, `renames` being {table: {old column: new column}}; all are checked
    before any change. Returns each table's columns before and after."""
    if not isinstance(renames, dict) or not all(isinstance(v, dict) for v in renames.values()):
        raise InputError("expected {table: {old column: new column}}", field="tables")
    with closing(sqlite3.connect(database)) as connection, connection:
        schema = _schema(connection)
        for table, columns in renames.items():
            if table not in schema:
                raise InputError(f"no table {table!r} in the input database",
                                 field=f"tables.{table}")
            remaining = list(schema[table])
            for old, new in columns.items():
                if old not in remaining:
                    raise InputError(f"table {table!r} has no column {old!r}",
                                     field=f"tables.{table}.{old}")
                _check_new_name(new, [c for c in remaining if c != old], f"tables.{table}.{old}")
                remaining[remaining.index(old)] = new
        response: dict[str, dict[str, list[str]]] = {}
        for table, columns in renames.items():
            response[table] = {"schema_before": schema[table]}
            for old, new in columns.items():
                connection.execute(f"ALTER TABLE {quote_identifier(table)} RENAME COLUMN "
                                   f"{quote_identifier(old)} TO {quote_identifier(new)}")
            response[table]["schema_after"] = _schema(connection)[table]
        return response


def _schema(connection: sqlite3.Connection) -> dict[str, list[str]]:
    tables = [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    return {table: [row[0] for row in connection.execute(
        "SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))] for table in tables}


def _check_new_name(new: object, existing: list[str], field: str) -> None:
    if not isinstance(new, str) or not _IDENTIFIER.match(new):
        raise InputError(f"{new!r} is not a valid name (letters, digits and _, not starting with "
                         "a digit, at most 128 characters)", field=field)
    if new.lower().startswith("sqlite_"):
        raise InputError("names starting with sqlite_ are reserved", field=field)
    if new.lower() in (name.lower() for name in existing):
        raise InputError(f"{new!r} already exists", field=field)
