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
from flintcloud.models.gcbm.simulation import SpinupCache, Trajectory, distinct_stands, simulate


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


def run_project(source: str | Path | GcbmProject, *,
                on_progress: Callable[[ProgressEvent], None] | None = None,
                on_block: Callable[[BlockResult], None] | None = None,
                deduplicate: bool = True) -> GcbmRun:
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
                project, library, reader, window, cache, deduplicate=deduplicate,
                on_year=lambda year, d=done: notify(ProgressEvent("year", d - 1, len(windows), year)))
            if result is not None:
                params = result.data.parameters
                parts.append(aggregate(result.trajectory, result.stand_area_ha, params.params,
                                       params.classifier_sets))
                simulated.append((window.tile.index, window.block_idx))
                n_pixels += result.data.cell_index.size
                area += float(np.sum(result.data.area_ha))
                if on_block is not None:
                    on_block(result)
            notify(ProgressEvent("block", done, len(windows)))
        reader.close()
        results = merge(parts, library.base, library.classifier_names, project.start_year)
        library.db.close()
    finally:
        if not isinstance(source, GcbmProject):
            remove_project_copy(project)
    dist = library.base.disturbances
    return GcbmRun(results, project.start_year, project.n_steps, len(windows), len(simulated),
                   n_pixels, area, time.perf_counter() - started, simulated, module_ids(project),
                   {name: int(code) for name, code in zip(dist.type_names, dist.type_codes,
                                                          strict=True)})
