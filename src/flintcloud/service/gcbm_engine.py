"""The single seam between the service and the GCBM engine.

`run_gcbm_project` is the only function the service calls to run GCBM: it runs the project with
every output (`flintcloud.gcbm.run.run_gcbm`) and turns the engine's progress events
into the job's percentage and message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# progress(percent 0..100, message such as "block 3/25, year 2014")
GcbmProgress = Callable[[float, str], None]


def run_gcbm_project(project_dir: Path, output_dir: Path, progress: GcbmProgress) -> None:
    """Run the GCBM project in `project_dir` and write its results to `output_dir`.

    `project_dir` has upstream's layout (gcbm-spec.md §1.1): `config/` (gcbm_config.cfg,
    localdomain.json, provider_config.json, modules_*.json, pools_cbm.json, spinup.json,
    variables.json, internal_variables.json), `layers/tiled/<layer>.tiff` + `<layer>.json` and
    `input_database/gcbm_input.db`. It is read-only: write nothing there.

    `output_dir` receives the run's files as `flintcloud.gcbm.outputs.layout` names them and
    `flintcloud.gcbm.outputs.catalogue` reads them: `gcbm_output.db` (gcbm-spec §6.2), the
    compiled indicators, `annual_summary.json`, `<indicator>/<lon>_<lat>/<indicator>_..._<block>_
    <step>.tif` (gcbm-spec §6.1), `cog/` mosaics and `manifest.json` (with its output `items`).
    Errors the user can fix are FlintError subclasses (the job fails with their code and
    message).
    """
    from flintcloud.gcbm.run import ProgressEvent, ProgressKind, run_gcbm

    def on_progress(event: ProgressEvent) -> None:
        year = event.year if event.kind is ProgressKind.YEAR else None
        progress(*block_progress(event.blocks_done, event.blocks_total, year))

    run_gcbm(project_dir, output_dir, on_progress=on_progress)


def block_progress(blocks_done: int, blocks_total: int, year: int | None = None) -> tuple[float, str]:
    """(percent, message) for the job: "block 3/25, year 2014"."""
    percent = 100.0 * blocks_done / blocks_total if blocks_total else 0.0
    message = f"block {blocks_done}/{blocks_total}" + (f", year {year}" if year is not None else "")
    return percent, message
