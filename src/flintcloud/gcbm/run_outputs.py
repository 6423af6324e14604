"""A GCBM run with all its outputs: GCBM's files (block GeoTIFFs, results database), the compiled
indicators (GCBM.CompileResults' tables), annual summaries, the summary CSVs, whole-area COGs and
a manifest, staged and moved into place only when complete.

Outputs go to one directory whatever paths the project configures (`output_path`,
`databasename`): item folders and file names stay GCBM's, so GCBM's tools read them unchanged.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from flintcloud.gcbm.outputs.compiled import (
    CompiledTables,
    annual_summary,
    compile_tables,
    write_compiled_db,
    write_summary_csv,
    write_summary_json,
)
from flintcloud.gcbm.outputs.compiled.compiled_db import LAYOUTS
from flintcloud.gcbm.outputs.compiled.views import FLUX_VIEWS
from flintcloud.gcbm.outputs.geotiffs import BlockGeotiffWriter, read_output_items, write_mosaics
from flintcloud.gcbm.outputs.results_db import write_results_db
from flintcloud.gcbm.outputs.results_tables import results_tables
from flintcloud.gcbm.outputs.summary_csvs import write_summary_csvs
from flintcloud.gcbm.project.config import GcbmProject, open_project, remove_project_copy
from flintcloud.gcbm.run import GcbmRun, ProgressEvent, blocks_to_simulate, run_project
from flintcloud.io.files import make_spread_folder
from flintcloud.io.manifest import file_entries, now, sha256_of, write_manifest
from flintcloud.io.tiled_tiff import Written

COG_FOLDER = "cog"
DEFAULT_DB_NAME = "gcbm_output.db"
COMPILED_DB_NAME = "compiled_simulation_output.db"  # GCBM.CompileResults' default name
# compiled in the block writer's child when it is idle: a little over half the work (the main
# process also merges the halves and writes them)
CHILD_VIEWS = FLUX_VIEWS + tuple(f"{view}_density" for view in FLUX_VIEWS) + \
    ("v_error_indicators",)


@dataclass
class GcbmOutputs:
    run: GcbmRun
    output_dir: Path
    files: list[Path]  # everything written, relative to output_dir, manifest last

    @property
    def manifest(self) -> Path:
        return self.output_dir / "manifest.json"


def _database_name(project: GcbmProject) -> str | None:
    module = project.modules.get("CBMAggregatorSQLiteWriter")
    if module is None:
        return None
    settings = module.child("settings")
    name = Path(settings.string("databasename", DEFAULT_DB_NAME).replace("\\", "/")).name
    if not name or name.startswith("."):
        raise settings.error(f"databasename {name!r} is not a file name", "databasename")
    return name


def _check_aggregator(project: GcbmProject) -> None:
    module = project.modules.get("CBMAggregatorLandUnitData")
    if module is None or "settings" not in module:
        return
    settings = module.child("settings")
    name = settings.string("reporting_classifier_set", "classifier_set")
    if name == "classifier_set":
        return
    variable = project.variable(name).value
    transform = variable.get("transform", {}) if isinstance(variable, dict) else {}
    if transform.get("type") != "CompositeTransform" or transform.get("vars") != ["classifier_set"]:
        raise settings.error(f"reporting classifier set {name!r} must be the classifier set "
                             "(a CompositeTransform of classifier_set)", "reporting_classifier_set")


def run_gcbm(source: str | Path, output_dir: str | Path, *,
             on_progress: Callable[[ProgressEvent], None] | None = None,
             mosaics: bool = True, executor: Any = None) -> GcbmOutputs:
    """Run a GCBM project (folder or zip) and write every output into `output_dir`.
    `executor`: None (here) or a dask.distributed Client (see `run_project`)."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = output_dir / f".staging-{uuid.uuid4().hex}"
    started = now()
    project = open_project(source)
    sink = None
    try:
        inputs = file_entries(project.root)
        if Path(source).is_file():
            inputs.insert(0, {"path": Path(source).name, "bytes": Path(source).stat().st_size,
                              "sha256": sha256_of(Path(source)), "role": "project archive"})
        _check_aggregator(project)
        db_name = _database_name(project)
        items = []
        if "WriteVariableGeotiff" in project.modules:
            items = read_output_items(project.modules["WriteVariableGeotiff"], staging)
        samples = staging / ".mosaic-samples" if mosaics else None
        # many files go in its subfolders
        make_spread_folder(staging, _subfolders(staging, items, samples if items else None))
        writer = BlockGeotiffWriter(items, project.grid, samples_dir=samples,
                                    keep_tiles=executor is None)  # for the child's mosaics
        maps = _Mosaics(writer, items, project, staging / COG_FOLDER) if items and mosaics \
            else None
        if items and executor is not None:
            sink = writer  # each worker writes its blocks' files
        elif items:  # here, files are written by another process while blocks simulate
            sink = _BackgroundSink(writer, then=maps, n_steps=project.n_steps)
        run = run_project(project, on_progress=on_progress, on_block=sink, executor=executor)
        tables = results_tables(run.results, module_ids=run.module_ids,
                                disturbance_codes=run.disturbance_codes)
        compiling = _Compiling(tables, sink, maps)
        write_summary_csvs(run.results, staging)
        if db_name is not None:
            write_results_db(staging / db_name, tables)
        mosaic_files = maps.write_here() if maps is not None else {}
        compiling.share()
        write_compiled_outputs(compiling.result(), staging)
        if maps is not None:
            mosaic_files |= maps.wait()
            shutil.rmtree(samples, ignore_errors=True)
        known = {path: digest for block in writer.blocks
                 for path, digest in zip(block.paths, block.hashes, strict=True)}
        known |= {str(path): (file.size, file.sha256) for path, file in mosaic_files.items()}
        outputs = file_entries(staging, known=known)
        configuration = {"merged": project.config.data, "files": project.config.files}
        write_manifest(staging, kind="gcbm", source=str(source), inputs=inputs,
                       configuration=configuration, started=started, finished=now(),
                       outputs=outputs, summary=_summary(run))
        files = [Path(entry["path"]) for entry in outputs] + [Path("manifest.json")]
        _move_into_place(staging, output_dir)
    except BaseException:
        if isinstance(sink, _BackgroundSink):
            sink.close()  # the child stops writing before its files go
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if isinstance(sink, _BackgroundSink):
            sink.close()
        remove_project_copy(project)
    return GcbmOutputs(run, output_dir, files)


class _Compiling:
    """The compiled indicators: half in the block writer's child if it is idle (its maps
    written, as in small runs) when `share` is called, all here otherwise."""

    def __init__(self, tables, sink, maps: _Mosaics | None) -> None:
        self.tables, self.sink, self.maps, self.there = tables, sink, maps, None
        self.share()

    def share(self) -> None:
        idle = self.maps is None or self.maps.written()
        if self.there is None and isinstance(self.sink, _BackgroundSink) and idle:
            self.there = self.sink.pool.submit(compile_tables, self.tables, views=CHILD_VIEWS)

    def result(self) -> CompiledTables:
        if self.there is None:
            return compile_tables(self.tables)
        here = compile_tables(self.tables,
                              views=[view for view in LAYOUTS if view not in CHILD_VIEWS])
        return here.merge(self.there.result())


def _subfolders(staging: Path, items, samples: Path | None) -> list[str]:
    """The staging folder's subfolders that receive many files."""
    folders = {item.folder.relative_to(staging).parts[0] for item in items
               if item.folder != staging}
    if samples is not None:
        folders |= {COG_FOLDER, samples.name}
    return sorted(folders)


class _Mosaics:
    """The whole-area maps. With a background block writer they start as soon as every block is
    written: most items in the writer's process (idle by then) while the engine merges its
    results, the rest here once the run's tables are made."""

    CHILD_SHARE = 0.9

    def __init__(self, writer: BlockGeotiffWriter, items, project: GcbmProject,
                 folder: Path) -> None:
        # write_mosaics' arguments after the items (the blocks' list fills as blocks are written)
        self.where = (project.grid, folder, project.start_year)
        self.blocks = writer.blocks
        self.here = items
        self.there = None

    def start(self, pool: ProcessPoolExecutor) -> None:
        split = round(len(self.here) * self.CHILD_SHARE)
        self.there = pool.submit(write_mosaics, self.blocks, self.here[:split], *self.where)
        self.here = self.here[split:]

    def write_here(self) -> dict[Path, Written]:
        """This process's share."""
        return write_mosaics(self.blocks, self.here, *self.where)

    def written(self) -> bool:
        """Whether the child's share is written (or there is none)."""
        return self.there is None or self.there.done()

    def wait(self) -> dict[Path, Written]:
        """The child's share, once written."""
        return self.there.result() if self.there is not None else {}


def write_compiled_outputs(compiled: CompiledTables, output_dir: Path) -> None:
    """The compiled indicators database and the annual summary (CSV, JSON) drawn from it."""
    write_compiled_db(compiled, output_dir / COMPILED_DB_NAME)
    summary = annual_summary(compiled)
    write_summary_csv(summary, output_dir / "annual_summary.csv")
    write_summary_json(summary, output_dir / "annual_summary.json")


class _BackgroundSink:
    """A block sink run in a child process: the block's files are written while the next
    blocks simulate. At most `max_pending` blocks wait, to bound memory (a block's payload is a
    few MB at most); when files are slow to create, the engine runs ahead meanwhile."""

    def __init__(self, sink, max_pending: int = 16, then: _Mosaics | None = None,
                 n_steps: int = 0) -> None:
        """`then` starts in the child once every block is written; `n_steps`: the run's."""
        self.sink, self.n_steps = sink, n_steps
        self.max_pending = max_pending
        self.then = then
        # fork: the child inherits the loaded libraries, so it starts in milliseconds
        self.pool = ProcessPoolExecutor(1, mp_context=get_context("fork"))
        self.pending: deque[Future] = deque()
        self.received: list[Future] = []
        self.creating: Future | None = None

    def expect(self, config_dir: str) -> None:
        """Before the first block: the child creates the files of the blocks to come while the
        engine spins up (in a folder where creating files is slow, a third of the writing)."""
        if hasattr(self.sink, "create_files"):
            self.creating = self.pool.submit(_create_files, self.sink, config_dir, self.n_steps)

    def __call__(self, block) -> Future:
        while len(self.pending) >= self.max_pending:
            self.pending.popleft().result()  # raises here if writing failed
        prepare = getattr(self.sink, "prepare", None)  # what of the block the child needs
        future = self.pool.submit(self.sink, prepare(block) if prepare else block)
        self.pending.append(future)
        return future

    def collect(self, receipt: Future) -> None:
        self.received.append(receipt)  # waited for in `done`

    def done(self) -> None:
        """Every block has been given: wait for their files, record them, start `then`."""
        for receipt in self.received:
            self.sink.collect(receipt.result())
        self.received = []
        if self.creating is not None:
            self.creating.result()  # raises here if it failed
            self.pool.submit(self.sink.remove_unfilled).result()
        if self.then is not None:
            self.then.start(self.pool)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


CREATE_FILES_SECONDS = 1.0  # at most: blocks that come meanwhile wait


def _create_files(writer: BlockGeotiffWriter, config_dir: str, n_steps: int) -> None:
    """In the block writer's process: create the files of the blocks to come, in order."""
    started = time.perf_counter()
    for window in blocks_to_simulate(config_dir):
        writer.create_files(window, n_steps)
        if time.perf_counter() - started > CREATE_FILES_SECONDS:
            break


def _summary(run: GcbmRun) -> dict:
    return {"pixels": run.n_pixels, "area_ha": run.area_ha, "start_year": run.start_year,
            "steps": run.n_steps, "blocks": run.n_blocks,
            "blocks_simulated": run.n_blocks_simulated,
            "simulation_seconds": run.wall_seconds}


def _move_into_place(staging: Path, output_dir: Path) -> None:
    """Replace output_dir's entries by the staged ones (same names), then drop the staging dir."""
    for entry in sorted(staging.iterdir()):
        target = output_dir / entry.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        os.replace(entry, target)
    staging.rmdir()

