"""Landscape CSV outputs with the reference files' columns, written atomically."""

from __future__ import annotations

from pathlib import Path

from flintcloud.gcbm.science.results import GcbmResults
from flintcloud.io.files import atomic_path


def write_summary_csvs(results: GcbmResults, output_dir: Path) -> list[Path]:
    """pool_totals_by_year.csv and fluxes_by_year.csv, each written whole or not at all."""
    tables = {"pool_totals_by_year.csv": results.pool_totals_by_year(),
              "fluxes_by_year.csv": results.fluxes_by_year()}
    written = []
    for name, frame in tables.items():
        with atomic_path(Path(output_dir) / name) as temporary:
            frame.to_csv(temporary, index=False, float_format="%.10g")
        written.append(Path(output_dir) / name)
    return written
