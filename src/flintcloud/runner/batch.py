"""Point configurations over many land units: chunked, optionally on several processes.

Each chunk is an independent land-unit batch, so a land unit's numbers do not depend on the
chunk size, the number of workers or its neighbours: they equal a run of that land unit alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from flintcloud.flint.config import FlintConfig
from flintcloud.flint.controller import LocalDomainController, RunResult
from flintcloud.flint.timing import format_datetime
from flintcloud.io.tables import LAND_UNIT_COLUMN, TableWriter

DEFAULT_CHUNK = 16_384  # land units per chunk: small enough for its pool rows to stay in cache


@dataclass
class BatchOutputs:
    n_land_units: int
    files: list[Path]


def _run_chunk(config: FlintConfig, n: int, columns: dict[str, np.ndarray], source: str) -> RunResult:
    controller = LocalDomainController(config, n_land_units=n, overrides=columns,
                                       overrides_source=source, record_outputs=True)
    return controller.run()


def stock_table(result: RunResult, ids: np.ndarray) -> pd.DataFrame:
    """Tidy stock table: one row per (land unit, output row), one column per pool."""
    if not result.stock_rows:
        return pd.DataFrame()
    n, n_rows = result.n_land_units, len(result.stock_rows)
    frame = {
        LAND_UNIT_COLUMN: np.tile(ids, n_rows),
        "notification": np.repeat([row.notification for row in result.stock_rows], n),
        "step": np.repeat(np.array([row.step for row in result.stock_rows], dtype=np.int32), n),
        "date": np.repeat([format_datetime(row.step_date) for row in result.stock_rows], n),
    }
    stacked = np.stack([row.pools for row in result.stock_rows])  # (rows, pools, n)
    for index, name in enumerate(result.pool_names):
        frame[name] = stacked[:, index, :].reshape(-1)
    return pd.DataFrame(frame)


def flux_table(result: RunResult, ids: np.ndarray) -> pd.DataFrame:
    """Tidy flux table: one row per applied flux per land unit."""
    parts = []
    names = result.pool_names
    for row in result.flux_rows:
        units = np.arange(result.n_land_units) if row.applied is None else np.flatnonzero(row.applied)
        if units.size == 0:
            continue
        parts.append(pd.DataFrame({
            LAND_UNIT_COLUMN: ids[units], "step": np.int32(row.step),
            "date": format_datetime(row.step_start), "module": row.module_name,
            "source": names[row.source], "sink": names[row.sink], "value": row.values[units],
        }))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _chunks(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def run_batch(config: FlintConfig, ids: np.ndarray, columns: dict[str, np.ndarray], *,
              output_dir: Path, source: str = "parameters", table_format: str = "parquet",
              chunk_size: int = DEFAULT_CHUNK, workers: int = 1,
              on_chunk_done: Callable[[int, int], None] | None = None) -> BatchOutputs:
    """Run every row of a parameter table; write stocks (and fluxes) as tidy tables."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    n = len(ids)
    stocks = TableWriter(output_dir / f"stocks.{table_format}")
    fluxes = TableWriter(output_dir / f"fluxes.{table_format}")
    pieces = list(_chunks(n, chunk_size))
    tasks = [(config, piece.stop - piece.start, {k: v[piece] for k, v in columns.items()}, source)
             for piece in pieces]
    try:
        with ProcessPoolExecutor(workers) if workers > 1 else _InlineExecutor() as executor:
            results = executor.map(_run_chunk, *zip(*tasks, strict=True))
            for done, (piece, result) in enumerate(zip(pieces, results, strict=True), start=1):
                chunk_ids = ids[piece]
                for writer, table in ((stocks, stock_table(result, chunk_ids)),
                                      (fluxes, flux_table(result, chunk_ids))):
                    if not table.empty:
                        writer.append(table)
                if on_chunk_done:
                    on_chunk_done(done, len(pieces))
    except BaseException:
        stocks.discard()
        fluxes.discard()
        raise
    files = [writer.close() for writer in (stocks, fluxes)]
    return BatchOutputs(n, [path for path in files if path.exists()])


def _final_pools(config: FlintConfig, n: int, columns: dict[str, np.ndarray], source: str) -> np.ndarray:
    return _run_chunk(config, n, columns, source).final_pools


def run_final_state(config: FlintConfig, n: int, columns: dict[str, np.ndarray], *,
                    chunk_size: int = DEFAULT_CHUNK, workers: int = 1) -> np.ndarray:
    """Run n land units and return only their final pools, (n_pools, n): no per-step output."""
    pieces = list(_chunks(n, chunk_size))
    tasks = [(config, piece.stop - piece.start, {k: v[piece] for k, v in columns.items()}, "")
             for piece in pieces]
    with ProcessPoolExecutor(workers) if workers > 1 else _InlineExecutor() as executor:
        return np.concatenate(list(executor.map(_final_pools, *zip(*tasks, strict=True))), axis=1)


class _InlineExecutor:
    """The executor interface, run in this process (no pickling, easier debugging)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    @staticmethod
    def map(fn, *iterables):
        return map(fn, *iterables)
