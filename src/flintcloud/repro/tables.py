"""How much two tables differ: the CSV files and SQLite databases of two runs, column by column
(the largest absolute difference of a numeric column, the number of differing cells)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TABLE_SUFFIXES = (".csv", ".db", ".sqlite")


@dataclass(frozen=True)
class ColumnDifference:
    table: str  # a CSV file's path, or `<database path>:<table>`
    column: str  # "" for the table as a whole (its shape or columns differ)
    cells: int  # differing cells
    max_abs: float | None  # the largest absolute difference of a numeric column
    note: str = ""

    def describe(self) -> str:
        if not self.column:
            return f"{self.table}: {self.note}"
        amount = f", max |Δ| {self.max_abs:.6g}" if self.max_abs is not None else ""
        return f"{self.table}: {self.column}: {self.cells} cell(s) differ{amount}"


def is_table(path: str) -> bool:
    return path.lower().endswith(TABLE_SUFFIXES)


def compare_frames(before: pd.DataFrame, after: pd.DataFrame, name: str) -> list[ColumnDifference]:
    """Column by column, rows in order; a change of shape or columns is one entry."""
    if list(before.columns) != list(after.columns):
        gone = [c for c in before.columns if c not in after.columns]
        new = [c for c in after.columns if c not in before.columns]
        return [ColumnDifference(name, "", 0, None,
                                 f"columns differ (only before: {gone}, only after: {new})")]
    if len(before) != len(after):
        shape = ColumnDifference(name, "", 0, None, f"{len(before)} rows before, {len(after)} after")
        if "year" not in before.columns:
            return [shape]
        # a longer or shorter period: compare the years both have too
        years = sorted(set(before["year"]) & set(after["year"]))
        return [shape, *compare_frames(
            before[before["year"].isin(years)].reset_index(drop=True),
            after[after["year"].isin(years)].reset_index(drop=True), f"{name} (common years)")]
    differences = []
    for column in before.columns:
        a, b = before[column].to_numpy(), after[column].to_numpy()
        if pd.api.types.is_numeric_dtype(a.dtype) and pd.api.types.is_numeric_dtype(b.dtype):
            a64, b64 = a.astype(np.float64), b.astype(np.float64)
            is_same = (a64 == b64) | (np.isnan(a64) & np.isnan(b64))
            if not is_same.all():
                delta = np.abs(a64 - b64)[~is_same]
                finite = delta[np.isfinite(delta)]
                differences.append(ColumnDifference(
                    name, str(column), int((~is_same).sum()),
                    float(finite.max()) if finite.size else None))
        else:
            is_same = pd.Series(a).astype(str).to_numpy() == pd.Series(b).astype(str).to_numpy()
            if not is_same.all():
                differences.append(ColumnDifference(name, str(column), int((~is_same).sum()), None))
    return differences


def _sqlite_tables(path: Path) -> dict[str, pd.DataFrame]:
    # read-only, so comparing never touches a run's database
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        names = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {name: pd.read_sql_query(f'SELECT * FROM "{name}"', connection) for name in names}


def compare_table_files(before: Path, after: Path, name: str) -> list[ColumnDifference]:
    """Two CSV files or two SQLite databases; a file that cannot be read is one entry."""
    try:
        if name.lower().endswith(".csv"):
            return compare_frames(pd.read_csv(before), pd.read_csv(after), name)
        a_tables, b_tables = _sqlite_tables(before), _sqlite_tables(after)
    except (OSError, ValueError, sqlite3.Error, pd.errors.ParserError) as err:
        return [ColumnDifference(name, "", 0, None, f"not comparable: {err}")]
    differences = []
    for table in sorted(set(a_tables) | set(b_tables)):
        if table not in a_tables or table not in b_tables:
            where = "after" if table in b_tables else "before"
            differences.append(ColumnDifference(f"{name}:{table}", "", 0, None, f"only {where}"))
            continue
        differences += compare_frames(a_tables[table], b_tables[table], f"{name}:{table}")
    if not differences:  # same values, other bytes (page layout, a view's text)
        differences.append(ColumnDifference(name, "", 0, None, "same values, other bytes"))
    return differences
