"""Run a GCBM project: each block is one task that simulates it as a land-unit batch and writes
its GeoTIFFs; tasks run here, in a process pool or on a Dask cluster (any
`concurrent.futures.Executor`); their results are merged in block order, so every executor gives
the same bytes. `run_gcbm` then writes every other output into a staging folder and moves it
into place only when the whole run succeeded.

A block's result is a pure function of (project, block); the spinup cache only memoises values
that are themselves pure functions of their keys.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from flintcloud.errors import ConfigError
from flintcloud.flint.memory import reuse_freed_memory
from flintcloud.gcbm.outputs.compiled import (
    CompiledTables,
    annual_summary,
    compile_tables,
    write_compiled_db,
    write_summary_csv,
    write_summary_json,
)
from flintcloud.gcbm.outputs.geotiffs import (
    BlockFiles,
    BlockGeotiffWriter,
    OutputItem,
    SimulatedBlock,
    read_output_items,
)
from flintcloud.gcbm.outputs.layout import (
    ANNUAL_SUMMARY_CSV,
    ANNUAL_SUMMARY_JSON,
    COG_FOLDER,
    COMPILED_DB,
    MANIFEST,
    cog_name,
)
from flintcloud.gcbm.outputs.mosaics import write_mosaics
from flintcloud.gcbm.outputs.results_db import (
    check_reporting_classifiers,
    results_db_name,
    write_results_db,
)
from flintcloud.gcbm.outputs.results_tables import results_tables
from flintcloud.gcbm.outputs.summary_csvs import write_summary_csvs
from flintcloud.gcbm.project.blocks import BlockData, BlockReader
from flintcloud.gcbm.project.config import GcbmProject, open_project, read_project
from flintcloud.gcbm.project.parameters import ParameterLibrary, load_parameters
from flintcloud.gcbm.project.rasters import BlockWindow, block_windows
from flintcloud.gcbm.science.results import BlockSums, GcbmResults, aggregate, merge
from flintcloud.gcbm.science.simulation import (
    PixelInputs,
    SpinupCache,
    Trajectory,
    distinct_stands,
    simulate,
    spin_up_into,
)
from flintcloud.gcbm.science.spinup import load_compiled
from flintcloud.io.files import replace_entries
from flintcloud.io.manifest import file_entries, now, sha256_of, write_manifest
from flintcloud.io.tiled_tiff import Written


class ProgressKind(StrEnum):
    START = "start"  # the blocks with a simulated cell are counted (only they are run)
    BLOCK = "block"  # a block finished
    YEAR = "year"  # a block finished a year (blocks run here only)


@dataclass(frozen=True)
class ProgressEvent:
    kind: ProgressKind
    blocks_done: int
    blocks_total: int
    year: int | None = None


@dataclass(frozen=True)
class BlockResult:
    """Per-pixel results of one block.

    The trajectory has one column per distinct stand; `stand_of_pixel` maps each simulated
    pixel (`data.cell_index`) to its column, so `pixel_values(x)` gives per-pixel arrays.
    """

    data: BlockData
    trajectory: Trajectory
    stand_of_pixel: np.ndarray  # (n_pixels,) intp

    @property
    def window(self) -> BlockWindow:
        return self.data.window

    def pixel_values(self, per_stand: np.ndarray) -> np.ndarray:
        """Expand an array whose last axis is stands to one whose last axis is pixels."""
        return per_stand[..., self.stand_of_pixel]


@dataclass
class GcbmRun:
    """A finished run: landscape results and a summary."""

    results: GcbmResults
    start_year: int
    n_steps: int
    n_blocks: int
    n_blocks_simulated: int
    n_pixels: int
    area_ha: float
    wall_seconds: float
    block_indices: list[tuple[int, int]] = field(default_factory=list)  # (tile, block) simulated
    module_ids: dict[str, int] = field(default_factory=dict)  # FLINT module id by module name
    disturbance_codes: dict[str, int] = field(default_factory=dict)  # type name -> code
    block_files: list[BlockFiles] = field(default_factory=list)  # what the tasks wrote

    def summary(self) -> dict[str, Any]:
        return {"pixels": self.n_pixels, "area_ha": self.area_ha, "start_year": self.start_year,
                "steps": self.n_steps, "blocks": self.n_blocks,
                "blocks_simulated": self.n_blocks_simulated,
                "simulation_seconds": self.wall_seconds}


def module_ids(project: GcbmProject) -> dict[str, int]:
    """FLINT's module ids: the creation index of each module within its library, in `order`."""
    counts: dict[str, int] = {}
    ids = {}
    for name, entry in sorted(project.modules.items(), key=lambda item: item[1].integer("order")):
        library = entry.string("library")
        ids[name] = counts.get(library, 0)
        counts[library] = ids[name] + 1
    return ids


def _land_class_index(library: ParameterLibrary, name: str, default: str) -> int:
    code = library.constants.get(name, default)
    codes = library.base.land_classes.codes
    if code not in codes:
        raise ConfigError(f"land class {code!r} is not in land_class", source="variables.json",
                          field=f"Variables.{name}")
    return codes.index(code)


# Consecutive blocks run as one task until they hold this many simulated pixels: their
# spinups run in one batch (~2,000 vectorised steps, whatever the number of stands) and the
# task's fixed costs are shared; a block of this many pixels or more is a task alone.
GROUP_PIXELS = 4096
# Distinct stands simulated together at most: a block's memory is bounded by this many stands'
# trajectories (and its items' per-pixel values), whatever the number of distinct stands. A
# step's NumPy passes are as fast per stand at this size as at 16,384 (the compiled spinup does
# not depend on it), and the distinct-pixel demo peaks 130 MB lower.
STAND_CHUNK = 4096


@dataclass(frozen=True)
class _BlockStands:
    """A block's simulated pixels and its distinct stands (pixels with equal inputs)."""

    data: BlockData
    stands: PixelInputs
    stand_of_pixel: np.ndarray  # (n_pixels,) intp

    def area_ha(self) -> np.ndarray:
        """Each stand's area: the sum of its pixels'."""
        return np.bincount(self.stand_of_pixel, weights=self.data.area_ha,
                           minlength=self.stands.n)

    def chunks(self) -> Iterator[tuple[slice, np.ndarray]]:
        """(stands, their pixels) in parts of at most STAND_CHUNK stands."""
        order = np.argsort(self.stand_of_pixel, kind="stable")
        bounds = np.searchsorted(self.stand_of_pixel[order],
                                 np.arange(0, self.stands.n + STAND_CHUNK, STAND_CHUNK))
        for k, start in enumerate(range(0, self.stands.n, STAND_CHUNK)):
            yield slice(start, min(start + STAND_CHUNK, self.stands.n)), \
                order[bounds[k]:bounds[k + 1]]


def _block_stands(reader: BlockReader, window: BlockWindow,
                  deduplicate: bool) -> _BlockStands | None:
    data = reader.read(window)
    if data is None:
        return None
    if deduplicate:
        stands, stand_of_pixel = distinct_stands(data.inputs)
    else:
        stands, stand_of_pixel = data.inputs, np.arange(data.inputs.n, dtype=np.intp)
    return _BlockStands(data, stands, stand_of_pixel)


def _take(batch: Any, rows: slice) -> Any:
    """Stands `rows` of a PixelInputs: every array keeps its stands on its last axis (events'
    too, recursively); other fields are shared."""
    cut: dict[str, Any] = {}
    for name in batch.__dataclass_fields__:
        value = getattr(batch, name)
        if isinstance(value, np.ndarray):
            cut[name] = value[..., rows]
        elif isinstance(value, tuple):
            cut[name] = tuple(_take(element, rows) for element in value)
    return replace(batch, **cut)


def _simulate_stands(project: GcbmProject, library: ParameterLibrary, block: _BlockStands,
                     rows: slice, cache: SpinupCache | None,
                     on_year: Callable[[int], None] | None) -> Trajectory:
    """The trajectory of the block's stands `rows`."""
    current = _land_class_index(library, "initial_current_land_class", "FL")
    historic_code = library.constants.get("initial_historic_land_class") or \
        library.base.land_classes.codes[current]
    historic = library.base.land_classes.codes.index(historic_code)
    data, window = block.data, block.data.window
    first_pixel = np.zeros(block.stands.n, dtype=np.intp)
    first_pixel[block.stand_of_pixel[::-1]] = np.arange(block.stand_of_pixel.size)[::-1]
    offset = rows.start or 0

    def pixel_label(stand: int) -> str:
        i = int(first_pixel[offset + stand])
        cell = int(data.cell_index[i])
        return f"{i} (row {cell // window.n_cols}, col {cell % window.n_cols})"

    stands = block.stands if rows == slice(None) else _take(block.stands, rows)
    return simulate(
        stands, data.parameters.params, data.parameters.stand_type_by_set,
        data.parameters.rule_transition, project.start_year, project.n_steps,
        initial_land_class=current, historic_land_class=historic, spinup_cache=cache,
        where=f"tile {window.tile.index} block {window.block_idx}", pixel_label=pixel_label,
        on_step=on_year)


def simulate_block(project: GcbmProject, library: ParameterLibrary, reader: BlockReader,
                   window: BlockWindow, cache: SpinupCache | None = None,
                   on_year: Callable[[int], None] | None = None,
                   deduplicate: bool = True) -> BlockResult | None:
    """Simulate one block whole; None if it has no simulated pixel. With `deduplicate`, pixels
    with identical inputs are simulated once (same numbers, less work)."""
    block = _block_stands(reader, window, deduplicate)
    if block is None:
        return None
    trajectory = _simulate_stands(project, library, block, slice(None), cache, on_year)
    return BlockResult(block.data, trajectory, block.stand_of_pixel)


@dataclass(frozen=True)
class BlockOutcome:
    """What a block's task returns: its sums and counts, and the files it wrote."""

    number: int  # position in the project's block order
    block: tuple[int, int]  # (tile index, block index)
    sums: list[BlockSums]  # one per part of its stands; none: no simulated pixel
    n_pixels: int = 0
    area_ha: float = 0.0
    files: BlockFiles | None = None


@dataclass
class _Session:
    """A project opened for simulating its blocks: once per process, reused by its blocks."""

    project: GcbmProject
    library: ParameterLibrary
    reader: BlockReader
    windows: list[BlockWindow]
    cache: SpinupCache = field(default_factory=SpinupCache)

    @classmethod
    def open(cls, project: GcbmProject) -> _Session:
        library = load_parameters(project)
        windows = [w for tile in project.tiles for w in block_windows(tile, project.grid)]
        return cls(project, library, BlockReader(project, library), windows)

    def close(self) -> None:
        self.reader.close()
        self.library.db.close()


class _Sessions(threading.local):
    """The project this thread has open, by config folder: a worker keeps it for its next
    blocks. Per thread, since a Dask worker may run tasks in several threads and an open
    raster is not to be shared between threads."""

    def __init__(self) -> None:
        self.open: dict[str, _Session] = {}

    def get(self, config_dir: str) -> _Session:
        if config_dir not in self.open:
            self.close()  # one project open at a time
            self.open[config_dir] = _Session.open(read_project(Path(config_dir)))
        return self.open[config_dir]

    def keep(self, session: _Session) -> _Session:
        self.close()
        self.open[str(session.project.config_dir)] = session
        return session

    def close(self) -> None:
        for config_dir in list(self.open):
            self.open.pop(config_dir).close()


_SESSIONS = _Sessions()


def run_blocks(config_dir: str, numbers: Sequence[int], *,
               writer: BlockGeotiffWriter | None = None, deduplicate: bool = True,
               on_year: Callable[[int, int], None] | None = None) -> list[BlockOutcome]:
    """The task of the project's blocks `numbers` (consecutive small blocks, or one): simulate
    each and write its files. A pure function of (project, blocks), so it may run in any process
    that sees the project's folder (and the run's staging folder, where `writer` writes).
    `on_year(position in numbers, year)` reports the years of each block's run."""
    reuse_freed_memory()  # in whichever process runs the task: a pool's, a Dask worker's
    session = _SESSIONS.get(config_dir)
    blocks = [_block_stands(session.reader, session.windows[number], deduplicate)
              for number in numbers]
    if len(numbers) > 1:
        _spin_up_together(session, [block for block in blocks if block is not None])
    return [_run_block(session, number, block, writer,
                       None if on_year is None else partial(on_year, position))
            for position, (number, block) in enumerate(zip(numbers, blocks, strict=True))]


def _spin_up_together(session: _Session, blocks: list[_BlockStands]) -> None:
    """Spin up the stands of several blocks in one batch, into the session's cache, where each
    block's simulation then finds them: a spinup costs ~2,000 steps whatever its number of
    stands, so small blocks share theirs. The same numbers as one block at a time (a stand's
    spinup does not depend on its batch)."""
    if not blocks:
        return
    index: dict[tuple[str, ...], int] = {}  # classifier set -> its index in the group
    in_group = []  # per block: its stands' classifier sets as group indices
    for block in blocks:
        local = block.data.parameters.classifier_sets
        to_group = np.zeros(len(local), dtype=np.intp)
        for i in np.unique(block.stands.classifier_set):  # a block's distinct sets, not stands
            to_group[i] = index.setdefault(local[i], len(index))
        in_group.append(to_group[block.stands.classifier_set])
    classifier_set = np.concatenate(in_group)
    spu = np.concatenate([block.stands.spu for block in blocks])
    group = session.library.for_classifier_sets(list(index), np.unique(spu))
    stands = PixelInputs(
        classifier_set=classifier_set, spu=spu,
        temperature_c=np.concatenate([block.stands.temperature_c for block in blocks]),
        initial_age=np.concatenate([block.stands.initial_age for block in blocks]),
        has_initial_age=np.concatenate([block.stands.has_initial_age for block in blocks]))
    if stands.has_initial_age.any():
        spin_up_into(session.cache, stands, group.stand_type_by_set[classifier_set, spu],
                     group.params)


def _run_block(session: _Session, number: int, stands: _BlockStands | None,
               writer: BlockGeotiffWriter | None,
               on_year: Callable[[int], None] | None) -> BlockOutcome:
    window = session.windows[number]
    block = (window.tile.index, window.block_idx)
    if stands is None:
        return BlockOutcome(number, block, [])
    data = stands.data
    params = data.parameters
    area_ha = stands.area_ha()
    stored = writer.empty_values(session.project.n_steps, data.cell_index.size) \
        if writer is not None else {}
    sums = []
    for rows, pixels in stands.chunks():
        trajectory = _simulate_stands(session.project, session.library, stands, rows,
                                      session.cache, on_year)
        reported, reporting_sets = _reporting_sets(session.library, trajectory,
                                                   stands.stands.spu[rows], params.classifier_sets)
        sums.append(aggregate(reported, area_ha[rows], params.params, reporting_sets))
        if writer is not None:
            part = SimulatedBlock(window, data.cell_index[pixels], data.area_ha[pixels],
                                  stands.stand_of_pixel[pixels] - rows.start, trajectory,
                                  params.params.disturbances.type_names)
            for name, values in writer.stored_values(part).items():
                stored[name][:, pixels] = values
    files = writer.write_values(window, data.cell_index, stored) if writer is not None \
        else None
    return BlockOutcome(number, block, sums, int(data.cell_index.size),
                        float(np.sum(data.area_ha)), files)


def _reporting_sets(library: ParameterLibrary, trajectory: Trajectory, stand_spu: np.ndarray,
                    sets: list[tuple[str, ...]]) -> tuple[Trajectory, list[tuple[str, ...]]]:
    """The trajectory with its classifier sets replaced by reporting sets (classifier values
    plus the reporting variables' values of each stand's spatial unit), and those sets."""
    if not library.reporting_names:
        return trajectory, sets
    n_spus = len(library.spu_ids)
    code = trajectory.classifier_set * n_spus + stand_spu
    distinct, inverse = np.unique(code, return_inverse=True)
    reporting = [sets[c // n_spus] + library.reporting_values[c % n_spus] for c in distinct]
    return replace(trajectory, classifier_set=inverse.reshape(code.shape)), reporting


def dask_setup(node: object) -> None:
    """`dask worker|scheduler --preload flintcloud.gcbm.run`: the engine is imported when the
    process starts, not by a run's first task (the scheduler unpickles tasks, whose function
    and writer are the engine's: 0.2-0.4 s at a run's start otherwise); a worker also loads the
    compiled spinup (~1 s)."""
    from distributed import Worker

    if isinstance(node, Worker):
        load_compiled()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes for `run_project` / `run_gcbm`. Forked from a server
    process that has loaded the engine: safe when the caller has threads (a plain fork is
    not), and each worker starts in milliseconds."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["flintcloud.gcbm.run"])
    return ProcessPoolExecutor(workers, mp_context=context)


@contextmanager
def _opened(source: str | Path | GcbmProject) -> Iterator[GcbmProject]:
    if isinstance(source, GcbmProject):
        yield source
    else:
        with open_project(source) as project:
            yield project


def run_project(source: str | Path | GcbmProject, *,
                executor: Executor | None = None,
                writer: BlockGeotiffWriter | None = None,
                on_progress: Callable[[ProgressEvent], None] | None = None,
                deduplicate: bool = True,
                on_blocks_done: Callable[[list[BlockFiles]], None] | None = None) -> GcbmRun:
    """Run a whole project (folder, zip or opened project) and return its landscape results.

    `executor`: None runs the blocks here, one after the other; otherwise each block is a task
    submitted to it (a process pool, a Dask client's `get_executor()`), whose processes must
    see the project's folder (a zip is extracted here first). `writer` writes each block's
    GeoTIFFs in its task. The results are the same either way. `on_blocks_done` is given
    what the blocks wrote as soon as the last one is done, before their sums are merged.
    """
    started = time.perf_counter()
    notify = on_progress or (lambda event: None)
    with _opened(source) as project:
        config_dir = str(project.config_dir)
        session = _SESSIONS.keep(_Session.open(project))
        try:
            n_blocks = len(session.windows)
            # Only blocks with a simulated cell are run, and counted by the progress events: a
            # block without one has no outputs (its mask, read here, is all its task would read).
            pixels = [int(session.reader.simulated_mask(window).sum())
                      for window in session.windows]
            numbers = [number for number, count in enumerate(pixels) if count]
            notify(ProgressEvent(ProgressKind.START, 0, len(numbers)))
            groups = _groups(numbers, pixels)
            if executor is None:
                outcomes = _run_here(config_dir, groups, len(numbers), writer, deduplicate,
                                     notify)
            else:
                outcomes = _run_on(executor, config_dir, groups, len(numbers), writer,
                                   deduplicate, notify)
        finally:
            _SESSIONS.close()
        outcomes.sort(key=lambda outcome: outcome.number)
        simulated = [outcome for outcome in outcomes if outcome.sums]
        block_files = [o.files for o in simulated if o.files is not None]
        if on_blocks_done is not None:
            on_blocks_done(block_files)
        library = session.library
        results = merge([sums for outcome in simulated for sums in outcome.sums],
                        library.base, [*library.classifier_names, *library.reporting_names],
                        project.start_year)
        dist = library.base.disturbances
        return GcbmRun(results, project.start_year, project.n_steps, n_blocks, len(simulated),
                       sum(o.n_pixels for o in simulated), sum(o.area_ha for o in simulated),
                       time.perf_counter() - started, [o.block for o in simulated],
                       module_ids(project),
                       {name: int(code) for name, code in zip(dist.type_names, dist.type_codes,
                                                              strict=True)},
                       block_files)


def block_results(source: str | Path | GcbmProject, *,
                  deduplicate: bool = True) -> Iterator[BlockResult]:
    """Each simulated block's per-pixel results, here, in block order (one block in memory at a
    time): for looking into a run, as the tests against GCBM's per-pixel references do."""
    with _opened(source) as project:
        session = _Session.open(project)
        try:
            for window in session.windows:
                result = simulate_block(project, session.library, session.reader, window,
                                        session.cache, deduplicate=deduplicate)
                if result is not None:
                    yield result
        finally:
            session.close()


def _groups(numbers: list[int], pixels: list[int]) -> list[list[int]]:
    """The blocks `numbers` as tasks: consecutive blocks together until they hold
    GROUP_PIXELS simulated pixels; a block of that many or more alone."""
    groups: list[list[int]] = []
    held = GROUP_PIXELS
    for number in numbers:
        if held >= GROUP_PIXELS:
            groups.append([])
            held = 0
        groups[-1].append(number)
        held += pixels[number]
    return groups


def _run_here(config_dir: str, groups: list[list[int]], n_blocks: int,
              writer: BlockGeotiffWriter | None, deduplicate: bool,
              notify: Callable[[ProgressEvent], None]) -> list[BlockOutcome]:
    outcomes: list[BlockOutcome] = []
    for group in groups:
        def on_year(position: int, year: int, done: int = len(outcomes)) -> None:
            notify(ProgressEvent(ProgressKind.YEAR, done + position, n_blocks, year))

        for outcome in run_blocks(config_dir, group, writer=writer, deduplicate=deduplicate,
                                  on_year=on_year):
            outcomes.append(outcome)
            notify(ProgressEvent(ProgressKind.BLOCK, len(outcomes), n_blocks))
    return outcomes


def _run_on(executor: Executor, config_dir: str, groups: list[list[int]], n_blocks: int,
            writer: BlockGeotiffWriter | None, deduplicate: bool,
            notify: Callable[[ProgressEvent], None]) -> list[BlockOutcome]:
    futures = [executor.submit(run_blocks, config_dir, group, writer=writer,
                               deduplicate=deduplicate) for group in groups]
    with _settled(futures):
        outcomes: list[BlockOutcome] = []
        for future in as_completed(futures):
            outcomes.extend(future.result())
            notify(ProgressEvent(ProgressKind.BLOCK, len(outcomes), n_blocks))
        return outcomes


@contextmanager
def _settled(futures: Sequence[Future[Any]]) -> Iterator[None]:
    """On failure, cancel the tasks not started and wait for the others: none may still be
    writing when the caller removes its staging folder."""
    try:
        yield
    except BaseException:
        for future in futures:
            future.cancel()
        wait(futures)
        raise


@dataclass
class GcbmOutputs:
    run: GcbmRun
    output_dir: Path
    files: list[Path]  # everything written, relative to output_dir, manifest last

    @property
    def manifest(self) -> Path:
        return self.output_dir / MANIFEST


def run_gcbm(source: str | Path, output_dir: str | Path, *,
             executor: Executor | None = None, mosaics: bool = True,
             on_progress: Callable[[ProgressEvent], None] | None = None) -> GcbmOutputs:
    """Run a GCBM project (folder or zip) and write every output into `output_dir` (layout.py):
    GCBM's GeoTIFFs and results database, the compiled indicators, summaries, whole-area COGs
    and the manifest. Outputs go to one folder whatever paths the project configures; item
    folders and file names stay GCBM's, so GCBM's tools read them unchanged. Nothing in
    `output_dir` changes unless the whole run succeeds. `executor`: see `run_project`."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = output_dir / f".staging-{uuid.uuid4().hex}"
    started = now()
    try:
        with open_project(source) as project:
            staging.mkdir()
            inputs = _input_entries(source, project)
            check_reporting_classifiers(project)
            db_name = results_db_name(project)
            items = _output_items(project, staging)
            samples = staging / ".mosaic-samples"
            writer = BlockGeotiffWriter(items, project.grid,
                                        samples_dir=samples if mosaics else None) \
                if items else None
            maps = _Mosaics(executor, items if mosaics else [], project, staging / COG_FOLDER)
            with maps:
                run = run_project(project, executor=executor, writer=writer,
                                  on_progress=on_progress, on_blocks_done=maps.start)
                tables = results_tables(run.results, module_ids=run.module_ids,
                                        disturbance_codes=run.disturbance_codes)
                write_summary_csvs(run.results, staging)
                if db_name is not None:
                    write_results_db(staging / db_name, tables)
                write_compiled_outputs(compile_tables(tables), staging)
            written_mosaics = maps.written
            shutil.rmtree(samples, ignore_errors=True)
            configuration = {"merged": project.config.data, "files": project.config.files,
                             "documents": _config_documents(project)}
            outputs = file_entries(staging, known=_hashes(run.block_files, written_mosaics))
            write_manifest(staging, kind="gcbm", source=str(source), inputs=inputs,
                           configuration=configuration, started=started, finished=now(),
                           outputs=outputs, summary=run.summary(),
                           items=_manifest_items(items, written_mosaics, staging, project))
        replace_entries(staging, output_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = [Path(entry["path"]) for entry in outputs] + [Path(MANIFEST)]
    return GcbmOutputs(run, output_dir, files)


PROVIDER_CONFIG = "provider_config.json"  # read beside the files gcbm_config.cfg lists


def _config_documents(project: GcbmProject) -> dict[str, Any]:
    """Each JSON configuration file as the run read it (the listed files and the provider
    config), by name: the effective files, hand edits included (gcbm/inputs/patches.py)."""
    names = [*project.config.files, PROVIDER_CONFIG]
    return {name: json.loads((project.config_dir / name).read_text(encoding="utf-8"))
            for name in dict.fromkeys(names)}


def _input_entries(source: str | Path, project: GcbmProject) -> list[dict[str, Any]]:
    inputs = file_entries(project.root)
    if Path(source).is_file():
        inputs.insert(0, {"path": Path(source).name, "bytes": Path(source).stat().st_size,
                          "sha256": sha256_of(Path(source)), "role": "project archive"})
    return inputs


def _output_items(project: GcbmProject, staging: Path) -> list[OutputItem]:
    module = project.modules.get("WriteVariableGeotiff")
    return read_output_items(module, staging) if module is not None else []


MOSAIC_TASKS = 4  # at most: enough to keep a few workers busy while the driver compiles


class _Mosaics:
    """The whole-area COGs: `start` (given the blocks' receipts as soon as the last block is
    done) submits MOSAIC_TASKS tasks of interleaved items to the executor, which write them
    while the driver merges and compiles; without an executor they are written here when the
    `with` body is done. `written` fills then. A task places every block in the mosaics once
    (reading their sampled cells), so items are grouped rather than one a task (one a task cost
    21 placements a run). On failure, tasks not started are cancelled and the others awaited."""

    def __init__(self, executor: Executor | None, items: list[OutputItem], project: GcbmProject,
                 folder: Path) -> None:
        self.executor, self.items = executor, items
        self.arguments = (project.grid, folder, project.start_year)
        self.blocks: list[BlockFiles] = []
        self.futures: list[Future[dict[Path, Written]]] = []
        self.written: dict[Path, Written] = {}

    def start(self, blocks: list[BlockFiles]) -> None:
        self.blocks = blocks
        if self.executor is None or not self.items or not blocks:
            return
        groups = [self.items[k::MOSAIC_TASKS] for k in range(min(MOSAIC_TASKS, len(self.items)))]
        self.futures = [self.executor.submit(
            write_mosaics, [block.of_items({item.name for item in group}) for block in blocks],
            group, *self.arguments) for group in groups]

    def __enter__(self) -> _Mosaics:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            for future in self.futures:
                future.cancel()
            wait(self.futures)
            return
        if not self.futures:
            self.written = write_mosaics(self.blocks, self.items, *self.arguments)
            return
        with _settled(self.futures):
            for future in self.futures:
                self.written |= future.result()


def _hashes(blocks: list[BlockFiles],
            mosaics: dict[Path, Written]) -> dict[str, tuple[int, str]]:
    """(size, sha256) of the files hashed as they were written, by path."""
    known = {path: digest for block in blocks
             for path, digest in zip(block.paths, block.hashes, strict=True)}
    return known | {str(path): (file.size, file.sha256) for path, file in mosaics.items()}


def _manifest_items(items: list[OutputItem], mosaics: dict[Path, Written], staging: Path,
                    project: GcbmProject) -> list[dict[str, Any]]:
    written = {path.relative_to(staging).as_posix() for path in mosaics}
    entries = []
    for item in items:
        labels = [item.year_label(step, project.start_year)
                  for step in item.steps(project.n_steps)]
        paths = {label: f"{COG_FOLDER}/{cog_name(item.name, label)}" for label in labels}
        entries.append(item.manifest_entry(
            staging, project.start_year, project.n_steps,
            {label: path for label, path in paths.items() if path in written}))
    return entries


def write_compiled_outputs(compiled: CompiledTables, output_dir: Path) -> None:
    """The compiled indicators database and the annual summary (CSV, JSON) drawn from it."""
    write_compiled_db(compiled, output_dir / COMPILED_DB)
    summary = annual_summary(compiled)
    write_summary_csv(summary, output_dir / ANNUAL_SUMMARY_CSV)
    write_summary_json(summary, output_dir / ANNUAL_SUMMARY_JSON)
