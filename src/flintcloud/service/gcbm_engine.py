"""The single seam between the service and the GCBM engine.

`run_gcbm_project` is the only function the service calls to run GCBM: it runs the project with
every output (`flintcloud.gcbm.run.run_gcbm`) and turns the engine's progress events
into the job's percentage and message. With `Settings.dask_scheduler` set, the blocks run as tasks
on that Dask cluster (same files, same bytes: docs/design/0004), else in the job's process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flintcloud.errors import ConfigError
from flintcloud.service.job_settings import job_settings

# progress(percent 0..100, message such as "block 3/25, year 2014")
GcbmProgress = Callable[[float, str], None]

CONNECT_TIMEOUT_S = 30  # a scheduler that does not answer within this fails the job


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

    scheduler = job_settings().dask_scheduler
    if scheduler is None:
        run_gcbm(project_dir, output_dir, on_progress=on_progress)
        return
    with dask_client(scheduler) as client:
        # pure=False: a block's task writes files, so Dask must never reuse an earlier result.
        run_gcbm(project_dir, output_dir, on_progress=on_progress,
                 executor=client.get_executor(pure=False))


@contextmanager
def dask_client(address: str) -> Iterator[Any]:
    """A client of the Dask scheduler at `address`, closed on the way out. When the job process
    is killed (a dismissed job), the scheduler sees its client go and releases the client's
    tasks: queued blocks never start, and the cluster is free for the next job."""
    try:
        from distributed import Client
    except ImportError as err:
        raise ConfigError("dask_scheduler is set but Dask is not installed", field="dask_scheduler",
                          hint="install flintcloud[dask]") from err
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except OSError as err:  # distributed raises OSError subclasses when it cannot connect
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {err}",
                          field="dask_scheduler") from err
    try:
        yield client
    finally:
        client.close()


def block_progress(blocks_done: int, blocks_total: int, year: int | None = None) -> tuple[float, str]:
    """(percent, message) for the job: "block 3/25, year 2014"."""
    percent = 100.0 * blocks_done / blocks_total if blocks_total else 0.0
    message = f"block {blocks_done}/{blocks_total}" + (f", year {year}" if year is not None else "")
    return percent, message
