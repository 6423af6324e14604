"""The single seam between the service and the GCBM engine.

`run_gcbm_project` is the only function the service calls to run GCBM. Until the engine
(`flintcloud.runner.gcbm`) is merged it raises GcbmEngineUnavailableError, so a GCBM job fails
with a clear message instead of pretending. Wiring the engine means replacing its body only:
the project layout it receives and the output layout it must produce are fixed below and in
`gcbm_outputs.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flintcloud.service.errors import GcbmEngineUnavailableError

# progress(percent 0..100, message such as "block 3/25, year 2014")
GcbmProgress = Callable[[float, str], None]


def run_gcbm_project(project_dir: Path, output_dir: Path, progress: GcbmProgress) -> None:
    """Run the GCBM project in `project_dir` and write its results to `output_dir`.

    `project_dir` has upstream's layout (gcbm-spec.md §1.1): `config/` (gcbm_config.cfg,
    localdomain.json, provider_config.json, modules_*.json, pools_cbm.json, spinup.json,
    variables.json, internal_variables.json), `layers/tiled/<layer>.tiff` + `<layer>.json` and
    `input_database/gcbm_input.db`. It is read-only: write nothing there.

    `output_dir` must receive what `gcbm_outputs.py` reads: `gcbm_output.db` (the aggregator's
    SQLite tables, gcbm-spec §6.2) and `<indicator>/<lon>_<lat>/<indicator>_..._<block>_<step>.tif`
    (gcbm-spec §6.1). Report progress through `progress` (use `block_progress`); raise a
    FlintError subclass for anything the user can fix.
    """
    raise GcbmEngineUnavailableError(
        "GCBM engine not available: this build of flintcloud has no GCBM engine yet",
        hint="point and rothc runs work; GCBM runs need flintcloud.runner.gcbm")


def block_progress(blocks_done: int, blocks_total: int, year: int | None = None) -> tuple[float, str]:
    """(percent, message) for the job: "block 3/25, year 2014"."""
    percent = 100.0 * blocks_done / blocks_total if blocks_total else 0.0
    message = f"block {blocks_done}/{blocks_total}" + (f", year {year}" if year is not None else "")
    return percent, message
