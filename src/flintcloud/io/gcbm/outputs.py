"""Landscape CSV outputs with the reference files' columns, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flintcloud.models.gcbm.results import GcbmResults


def write_summary_csvs(results: GcbmResults, output_dir: Path) -> list[Path]:
    """pool_totals_by_year.csv and fluxes_by_year.csv: written under temporary names, renamed
    only once both are complete, so a failed run leaves nothing that looks complete."""
    output_dir.mkdir(parents=True, exist_ok=True)
    tables = {"pool_totals_by_year.csv": results.pool_totals_by_year(),
              "fluxes_by_year.csv": results.fluxes_by_year()}
    staged = []
    try:
        for name, frame in tables.items():
            handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=output_dir)
            os.close(handle)
            staged.append((Path(temporary), output_dir / name))
            frame.to_csv(temporary, index=False, float_format="%.10g")
            os.chmod(temporary, 0o644)  # mkstemp makes private files; outputs are shared
        for temporary, final in staged:
            os.replace(temporary, final)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
    return [final for _, final in staged]
