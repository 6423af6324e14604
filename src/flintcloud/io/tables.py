"""Tabular inputs and outputs: batch parameter tables in, tidy Parquet/CSV result tables out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from flintcloud.errors import InputError

LAND_UNIT_COLUMN = "land_unit"


def read_parameter_table(path: str | Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A CSV with one row per land unit -> (land-unit ids, {column: float64 values}).

    An optional `land_unit` column names the rows; every other column must be numeric.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, skipinitialspace=True)
    except FileNotFoundError:
        raise InputError("file not found", source=str(path)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(f"not a readable CSV table: {err}", source=str(path)) from err
    if table.empty:
        raise InputError("the table has no rows (one row per land unit is expected)", source=str(path))
    ids = table.pop(LAND_UNIT_COLUMN).to_numpy() if LAND_UNIT_COLUMN in table else np.arange(len(table))
    columns = {}
    for name in table.columns:
        values = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=np.float64)
        bad = np.flatnonzero(np.isnan(values))
        if bad.size:
            rows = ", ".join(str(int(i) + 2) for i in bad[:5])
            raise InputError(f"{bad.size} value(s) are missing or not numbers (line(s) {rows})",
                             source=str(path), field=str(name))
        columns[str(name)] = values
    return ids, columns


class TableWriter:
    """Appends DataFrames to one Parquet or CSV file; written under a temporary name until closed."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.format = "csv" if self.path.suffix == ".csv" else "parquet"
        self._temporary = self.path.with_name(f".{self.path.name}.partial")
        self._parquet: pq.ParquetWriter | None = None
        self._csv_started = False

    def append(self, frame: pd.DataFrame) -> None:
        if self.format == "csv":
            frame.to_csv(self._temporary, mode="a" if self._csv_started else "w",
                         header=not self._csv_started, index=False, float_format="%.17g")
            self._csv_started = True
            return
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self._temporary, table.schema)
        self._parquet.write_table(table)

    def close(self) -> Path:
        if self._parquet is not None:
            self._parquet.close()
        if self._temporary.exists():
            self._temporary.replace(self.path)
        return self.path

    def discard(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        self._temporary.unlink(missing_ok=True)
