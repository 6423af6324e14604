"""Run a GCBM project: enumerate blocks, skip empty ones cheaply, simulate each block as one
land-unit batch, merge the block results deterministically, report progress as events.

A block's result is a pure function of (project, block): blocks run here or as Dask tasks with
the same results; the spinup cache only memoises values that are themselves pure functions of
their keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from flintcloud.errors import ConfigError
from flintcloud.gcbm.project.blocks import BlockData, BlockReader
from flintcloud.gcbm.project.config import GcbmProject, open_project, remove_project_copy
from flintcloud.gcbm.project.parameters import ParameterLibrary, load_parameters
from flintcloud.gcbm.project.rasters import BlockWindow, block_windows
from flintcloud.gcbm.science.results import BlockSums, GcbmResults, aggregate, merge
from flintcloud.gcbm.science.simulation import SpinupCache, Trajectory, distinct_stands, simulate


@dataclass(frozen=True)
class ProgressEvent:
    """`kind` is "start", "block" (a block finished) or "year" (a block finished a year)."""

    kind: str
    blocks_done: int
    blocks_total: int
    year: int | None = None


@dataclass(frozen=True)
class BlockResult:
    """Per-pixel results of one block: what GeoTIFF outputs need.

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

    @property
    def stand_area_ha(self) -> np.ndarray:
        """Area of each stand column: the sum of its pixels' areas."""
        return np.bincount(self.stand_of_pixel, weights=self.data.area_ha,
                           minlength=self.trajectory.age.shape[1])


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


def simulate_block(project: GcbmProject, library: ParameterLibrary, reader: BlockReader,
                   window: BlockWindow, cache: SpinupCache | None = None,
                   on_year: Callable[[int], None] | None = None,
                   deduplicate: bool = True) -> BlockResult | None:
    """Simulate one block; None if it has no simulated pixel. With `deduplicate`, pixels with
    identical inputs are simulated once (same numbers, less work)."""
    data = reader.read(window)
    if data is None:
        return None
    current = _land_class_index(library, "initial_current_land_class", "FL")
    historic_code = library.constants.get("initial_historic_land_class") or \
        library.base.land_classes.codes[current]
    historic = library.base.land_classes.codes.index(historic_code)
    n_cols = window.n_cols

    if deduplicate:
        stands, stand_of_pixel = distinct_stands(data.inputs)
    else:
        stands, stand_of_pixel = data.inputs, np.arange(data.inputs.n, dtype=np.intp)
    first_pixel = np.zeros(stands.n, dtype=np.intp)
    first_pixel[stand_of_pixel[::-1]] = np.arange(stand_of_pixel.size)[::-1]

    def pixel_label(stand: int) -> str:
        i = int(first_pixel[stand])
        cell = int(data.cell_index[i])
        return f"{i} (row {cell // n_cols}, col {cell % n_cols})"

    trajectory = simulate(
        stands, data.parameters.params, data.parameters.stand_type_by_set,
        data.parameters.rule_transition, project.start_year, project.n_steps,
        initial_land_class=current, historic_land_class=historic, spinup_cache=cache,
        where=f"tile {window.tile.index} block {window.block_idx}", pixel_label=pixel_label,
        on_step=on_year)
    return BlockResult(data, trajectory, stand_of_pixel)


class BlockSink(Protocol):
    """Receives each simulated block where it was simulated (in a worker, under Dask) and
    returns a small picklable receipt, which `collect` gets back in the driving process.
    A sink may also have `done()`, called in the driving process once every receipt is
    collected, before the landscape results are merged: work that needs every block's output
    can start there. And `expect(config_dir)`, called before the first block when blocks run
    in the driving process: a sink that works in another process may look ahead there with
    `blocks_to_simulate(config_dir)` while the engine spins up."""

    def __call__(self, block: BlockResult) -> Any: ...

    def collect(self, receipt: Any) -> None: ...


@dataclass(frozen=True)
class BlockOutcome:
    """What the driver keeps of one block: its sums and counts, and the sink's receipt."""

    number: int  # position in the project's block order
    block: tuple[int, int]  # (tile index, block index)
    sums: BlockSums | None  # None: no simulated pixel
    n_pixels: int = 0
    area_ha: float = 0.0
    receipt: Any = None


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


_SESSIONS: dict[str, _Session] = {}  # this process's open projects, by config directory


def _session(config_dir: str) -> _Session:
    if config_dir not in _SESSIONS:
        for stale in list(_SESSIONS):  # a worker keeps one project open at a time
            _SESSIONS.pop(stale).close()
        _SESSIONS[config_dir] = _Session.open(open_project(Path(config_dir)))
    return _SESSIONS[config_dir]


def blocks_to_simulate(config_dir: str) -> Iterator[BlockWindow]:
    """The blocks `run_block` will find a simulated cell in, in order; only their classifier
    layers are read, by readers of its own (so it may run in a forked process)."""
    session = _SESSIONS.get(config_dir)  # a forked process inherits the driver's
    own = session is None
    if own:
        session = _Session.open(open_project(Path(config_dir)))
    reader = BlockReader(session.project, session.library)
    try:
        for window in session.windows:
            if reader.simulated_mask(window).any():
                yield window
    finally:
        reader.close()
        if own:
            session.close()


def run_block(config_dir: str, number: int, *, deduplicate: bool = True,
              sink: BlockSink | None = None,
              on_year: Callable[[int], None] | None = None) -> BlockOutcome:
    """Simulate the project's `number`-th block: a pure function of (project, block), so it may
    run in any process that can read the project's folder (a Dask task, for instance)."""
    session = _session(config_dir)
    window = session.windows[number]
    block = (window.tile.index, window.block_idx)
    result = simulate_block(session.project, session.library, session.reader, window,
                            session.cache, on_year=on_year, deduplicate=deduplicate)
    if result is None:
        return BlockOutcome(number, block, None)
    params = result.data.parameters
    sums = aggregate(result.trajectory, result.stand_area_ha, params.params,
                     params.classifier_sets)
    receipt = sink(result) if sink is not None else None
    return BlockOutcome(number, block, sums, int(result.data.cell_index.size),
                        float(np.sum(result.data.area_ha)), receipt)


def run_project(source: str | Path | GcbmProject, *,
                on_progress: Callable[[ProgressEvent], None] | None = None,
                on_block: BlockSink | Callable[[BlockResult], Any] | None = None,
                deduplicate: bool = True, executor: Any = None) -> GcbmRun:
    """Run a whole project (folder, zip or opened project) and return its landscape results.

    `on_block` receives each simulated block's per-pixel results (then they are dropped, so
    memory stays bounded by one block). `executor`: None runs the blocks here, one after the
    other; a `dask.distributed.Client` runs them as tasks on its workers, which must see the
    project folder (a zip is extracted here first). The results are the same either way.
    """
    started = time.perf_counter()
    project = source if isinstance(source, GcbmProject) else open_project(source)
    config_dir = str(project.config_dir)
    notify = on_progress or (lambda event: None)
    try:
        _SESSIONS.pop(config_dir, None)
        session = _SESSIONS[config_dir] = _Session.open(project)
        n_blocks = len(session.windows)
        notify(ProgressEvent("start", 0, n_blocks))
        if executor is None and hasattr(on_block, "expect"):
            on_block.expect(config_dir)
        if executor is None:
            outcomes = _run_here(config_dir, n_blocks, on_block, deduplicate, notify)
        else:
            outcomes = _run_on(executor, config_dir, n_blocks, on_block, deduplicate, notify)
        outcomes.sort(key=lambda outcome: outcome.number)
        simulated = [outcome for outcome in outcomes if outcome.sums is not None]
        if hasattr(on_block, "collect"):
            for outcome in simulated:
                on_block.collect(outcome.receipt)
        if hasattr(on_block, "done"):
            on_block.done()
        library = session.library
        results = merge([outcome.sums for outcome in simulated], library.base,
                        library.classifier_names, project.start_year)
    finally:
        session = _SESSIONS.pop(config_dir, None)
        if session is not None:
            session.close()
        if not isinstance(source, GcbmProject):
            remove_project_copy(project)
    dist = library.base.disturbances
    return GcbmRun(results, project.start_year, project.n_steps, n_blocks, len(simulated),
                   sum(o.n_pixels for o in simulated), sum(o.area_ha for o in simulated),
                   time.perf_counter() - started, [o.block for o in simulated],
                   module_ids(project),
                   {name: int(code) for name, code in zip(dist.type_names, dist.type_codes,
                                                          strict=True)})


def _run_here(config_dir, n_blocks, on_block, deduplicate, notify) -> list[BlockOutcome]:
    outcomes = []
    for number in range(n_blocks):
        outcomes.append(run_block(
            config_dir, number, deduplicate=deduplicate, sink=on_block,
            on_year=lambda year, n=number: notify(ProgressEvent("year", n, n_blocks, year))))
        notify(ProgressEvent("block", number + 1, n_blocks))
    return outcomes


def _run_on(client, config_dir, n_blocks, on_block, deduplicate, notify) -> list[BlockOutcome]:
    from dask.distributed import as_completed

    futures = client.map(run_block, [config_dir] * n_blocks, range(n_blocks),
                         deduplicate=deduplicate, sink=on_block, pure=False)
    outcomes = []
    for done, future in enumerate(as_completed(futures), start=1):
        outcomes.append(future.result())
        notify(ProgressEvent("block", done, n_blocks))
    return outcomes
