"""Run a GCBM project: enumerate blocks, skip empty ones cheaply, simulate each block as one
land-unit batch, merge the block results deterministically, report progress as events.

A block's result is a pure function of (project, block): blocks could run anywhere (processes,
Dask); the spinup cache only memoises values that are themselves pure functions of their keys.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from flintcloud.errors import ConfigError
from flintcloud.io.gcbm.blocks import BlockData, BlockReader
from flintcloud.io.gcbm.parameters import ParameterLibrary, load_parameters
from flintcloud.io.gcbm.project import GcbmProject, open_project, remove_project_copy
from flintcloud.io.gcbm.rasters import BlockWindow, block_windows
from flintcloud.models.gcbm.results import GcbmResults, aggregate, merge
from flintcloud.models.gcbm.simulation import SpinupCache, Trajectory, simulate


@dataclass(frozen=True)
class ProgressEvent:
    """`kind` is "start", "block" (a block finished) or "year" (a block finished a year)."""

    kind: str
    blocks_done: int
    blocks_total: int
    year: int | None = None


@dataclass(frozen=True)
class BlockResult:
    """Per-pixel results of one block: what GeoTIFF outputs need."""

    data: BlockData
    trajectory: Trajectory

    @property
    def window(self) -> BlockWindow:
        return self.data.window


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


def _land_class_index(library: ParameterLibrary, name: str, default: str) -> int:
    code = library.constants.get(name, default)
    codes = library.base.land_classes.codes
    if code not in codes:
        raise ConfigError(f"land class {code!r} is not in land_class", source="variables.json",
                          field=f"Variables.{name}")
    return codes.index(code)


def simulate_block(project: GcbmProject, library: ParameterLibrary, reader: BlockReader,
                   window: BlockWindow, cache: SpinupCache | None = None,
                   on_year: Callable[[int], None] | None = None) -> BlockResult | None:
    """Simulate one block; None if it has no simulated pixel."""
    data = reader.read(window)
    if data is None:
        return None
    current = _land_class_index(library, "initial_current_land_class", "FL")
    historic_code = library.constants.get("initial_historic_land_class") or \
        library.base.land_classes.codes[current]
    historic = library.base.land_classes.codes.index(historic_code)
    n_cols = window.n_cols

    def pixel_label(i: int) -> str:
        cell = int(data.cell_index[i])
        return f"{i} (row {cell // n_cols}, col {cell % n_cols})"

    trajectory = simulate(
        data.inputs, data.parameters.params, data.parameters.stand_type_by_set,
        data.parameters.rule_transition, project.start_year, project.n_steps,
        initial_land_class=current, historic_land_class=historic, spinup_cache=cache,
        where=f"tile {window.tile.index} block {window.block_idx}", pixel_label=pixel_label,
        on_step=on_year)
    return BlockResult(data, trajectory)


def run_project(source: str | Path | GcbmProject, *,
                on_progress: Callable[[ProgressEvent], None] | None = None,
                on_block: Callable[[BlockResult], None] | None = None) -> GcbmRun:
    """Run a whole project (folder, zip or opened project) and return its landscape results.

    `on_block` receives each simulated block's per-pixel results (then they are dropped, so
    memory stays bounded by one block).
    """
    started = time.perf_counter()
    project = source if isinstance(source, GcbmProject) else open_project(source)
    try:
        library = load_parameters(project)
        reader = BlockReader(project, library)
        windows = [w for tile in project.tiles for w in block_windows(tile, project.grid)]
        notify = on_progress or (lambda event: None)
        notify(ProgressEvent("start", 0, len(windows)))
        cache = SpinupCache()
        parts, simulated = [], []
        n_pixels, area = 0, 0.0
        for done, window in enumerate(windows, start=1):
            result = simulate_block(
                project, library, reader, window, cache,
                on_year=lambda year, d=done: notify(ProgressEvent("year", d - 1, len(windows), year)))
            if result is not None:
                params = result.data.parameters
                parts.append(aggregate(result.trajectory, result.data.area_ha, params.params,
                                       params.classifier_sets, library.classifier_names,
                                       project.start_year))
                simulated.append((window.tile.index, window.block_idx))
                n_pixels += result.data.cell_index.size
                area += float(np.sum(result.data.area_ha))
                if on_block is not None:
                    on_block(result)
            notify(ProgressEvent("block", done, len(windows)))
        reader.close()
        bounds = library.base.age_classes.bounds()
        results = merge(parts, library.classifier_names, bounds)
        library.db.close()
    finally:
        if not isinstance(source, GcbmProject):
            remove_project_copy(project)
    return GcbmRun(results, project.start_year, project.n_steps, len(windows), len(simulated),
                   n_pixels, area, time.perf_counter() - started, simulated)
