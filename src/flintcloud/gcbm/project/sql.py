"""SQL-query variables (FLINT's SQLQueryTransform) against the project's SQLite provider.

`{var:name}` tokens become `?` placeholders and the values are bound as SQL parameters; they are
never pasted into the SQL text. Result shapes follow FLINT (gcbm-spec §1.5): no rows -> None,
1×1 -> scalar, n×1 -> list, 1×k -> dict, n×k -> list of dicts.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from flintcloud.errors import ConfigError, ParameterDbError

_TOKEN = re.compile(r"\{var:([A-Za-z0-9_.]+)\}")


def referenced_variables(query: str) -> list[str]:
    """The variable names a query's `{var:...}` tokens refer to, in order."""
    return _TOKEN.findall(query)


def bind_query(query: str, values: dict[str, Any]) -> tuple[str, list[Any]]:
    """Replace every `{var:x}` by `?` (or `?, ?` for a list) and collect the parameters;
    None binds SQL NULL."""
    parameters: list[Any] = []

    def substitute(match: re.Match) -> str:
        value = values[match.group(1)]
        if isinstance(value, list | tuple):
            parameters.extend(value)
            return ", ".join("?" * len(value))
        parameters.append(value)
        return "?"

    return _TOKEN.sub(substitute, query), parameters


class SqliteProvider:
    """The project's `Providers.SQLite` database, opened read-only."""

    def __init__(self, path: Path, source: str) -> None:
        if not path.is_file():
            raise ConfigError(f"database file not found: {path}", source=source,
                              field="Providers.SQLite.path")
        self.path = path
        self.name = path.name
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def close(self) -> None:
        self.connection.close()

    def tables(self) -> set[str]:
        rows = self.connection.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        return {row[0] for row in rows}

    def query(self, sql: str, parameters=(), *, variable: str | None = None) -> list[dict]:
        """Rows as dicts; SQL errors name the database and the variable whose query failed."""
        try:
            cursor = self.connection.execute(sql, parameters)
        except sqlite3.Error as err:
            raise ParameterDbError(f"query of variable {variable!r} failed: {err}", source=self.name,
                                   field=variable, hint="check the table against gcbm-spec §3") from err
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def table(self, name: str, columns: str = "*") -> list[dict]:
        """All rows of a table the modules read directly (no variable defines it)."""
        if name not in self.tables():
            raise ParameterDbError(f"table {name!r} is missing", source=self.name, field=name)
        return self.query(f"SELECT {columns} FROM {name}", variable=name)  # noqa: S608 - fixed names


def shape_result(rows: list[dict]) -> Any:
    """FLINT's result shape rule for a query's rows."""
    if not rows:
        return None
    if len(rows[0]) == 1:
        values = [next(iter(row.values())) for row in rows]
        return values[0] if len(values) == 1 else values
    return rows[0] if len(rows) == 1 else rows


def as_rows(value: Any) -> list[dict]:
    """Accept both the dict and the list-of-dicts shapes, as GCBM's modules do."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    return list(value)
