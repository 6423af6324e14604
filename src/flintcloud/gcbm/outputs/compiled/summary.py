"""Annual summaries: landscape totals per year of the main compiled indicators.

Which indicator feeds which column is declared in `indicators.json` (`annual_summary`); column
names carry their unit (`_tc`: tC, `_tc_per_yr`: tC/yr, `_ha`: ha).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from flintcloud.errors import InputError
from flintcloud.gcbm.outputs.compiled.compiled_db import (
    CompiledTables,
    check_output_path,
    compile_tables,
    read_compiled_table,
)
from flintcloud.gcbm.outputs.compiled.indicators import (
    AREA_TABLE,
    DISTURBED_AREA_TABLE,
    SUMMARY_TABLES,
    IndicatorSet,
    SummaryColumn,
    load_indicators,
)
from flintcloud.gcbm.outputs.results_db import connect_read_only, table_columns
from flintcloud.io.files import atomic_path


def annual_summary(db: str | Path | CompiledTables, *,
                   indicators: IndicatorSet | str | Path | None = None) -> pd.DataFrame:
    """One row per year: `year` then the declared columns (sums over the landscape).

    `db` is a compiled database (v_* tables), a GCBM results database, which is compiled in
    memory first, or compiled tables in memory. A year without any row for a column's
    indicators gets 0 (no flux, no area).
    """
    if not isinstance(indicators, IndicatorSet):
        indicators = load_indicators(indicators)
    tables = db.tables if isinstance(db, CompiledTables) else _source_tables(Path(db), indicators)
    values: dict[str, pd.Series] = {}
    for column in indicators.annual_summary:
        values |= _column_values(column, tables[column.table])
    frame = pd.DataFrame(values)
    frame = frame.reindex(sorted(frame.index)).fillna(0.0)
    return frame.rename_axis("year").reset_index().astype({"year": "int64"})


def _source_tables(db: Path, indicators: IndicatorSet) -> dict[str, pd.DataFrame]:
    """The rows the summary needs, from a compiled database, or compiled from a results one."""
    connection = connect_read_only(db)
    try:
        present = table_columns(connection)
    finally:
        connection.close()
    if "locationdimension" in present and "v_pool_indicators" not in present:
        return compile_tables(db, indicators).tables
    if "v_pool_indicators" not in present:
        raise InputError("neither a compiled database (v_pool_indicators, ...) nor a GCBM "
                         "results database (LocationDimension, ...)", source=str(db),
                         field="table v_pool_indicators")
    wanted: dict[str, set[str]] = {}
    for column in indicators.annual_summary:
        wanted.setdefault(column.table, set()).update(column.indicators)
    return {table: _read_rows(db, table, names) for table, names in wanted.items()}


def _read_rows(db: Path, table: str, names: set[str]) -> pd.DataFrame:
    value = SUMMARY_TABLES[table]
    if table == DISTURBED_AREA_TABLE:
        return read_compiled_table(db, table, ["disturbance_code", "disturbance_type", "year",
                                               value])
    if table == AREA_TABLE:
        return read_compiled_table(db, table, ["year", value])
    return read_compiled_table(db, table, ["indicator", "year", value], tuple(sorted(names)))


def _column_values(column: SummaryColumn, table: pd.DataFrame) -> dict[str, pd.Series]:
    value = SUMMARY_TABLES[column.table]
    if column.by == "disturbance_type":
        return _by_disturbance_type(column.name, table, value)
    if column.indicators:
        table = table[table["indicator"].isin(column.indicators)]
    return {column.name: table.groupby("year")[value].sum()}


def _by_disturbance_type(name: str, table: pd.DataFrame, value: str) -> dict[str, pd.Series]:
    """`<name>[<disturbance type>]` per type, in order of disturbance code; none without
    disturbances (a project may have no disturbance layers)."""
    if table.empty:
        return {}
    table = table.sort_values(["disturbance_code", "disturbance_type"], kind="stable")
    label = table["disturbance_type"].where(table["disturbance_type"].notna(),
                                            "code " + table["disturbance_code"].astype(str))
    table = table.assign(column=f"{name}[" + label + "]")
    sums = table.groupby(["column", "year"])[value].sum()
    return {column: sums[column] for column in table["column"].unique()}


def write_summary_csv(summary: pd.DataFrame, path: str | Path) -> Path:
    """Write an annual summary as CSV (full float precision), atomically."""
    return _write_atomically(Path(path), lambda temporary: summary.to_csv(temporary, index=False))


def write_summary_json(summary: pd.DataFrame, path: str | Path) -> Path:
    """Write an annual summary as a JSON list of per-year objects, atomically."""
    text = json.dumps(summary_records(summary), ensure_ascii=False, indent=1)
    return _write_atomically(Path(path), lambda temporary: temporary.write_text(text + "\n",
                                                                                "utf-8"))


def summary_records(summary: pd.DataFrame) -> list[dict]:
    """The summary as JSON-ready records (Python ints and floats; a handful of rows)."""
    return [{name: int(value) if name == "year" else float(value) for name, value in row.items()}
            for row in summary.to_dict(orient="records")]


def _write_atomically(path: Path, write) -> Path:
    path = check_output_path(path)
    with atomic_path(path) as temporary:
        write(temporary)
    return path
