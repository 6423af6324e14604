"""WriteVariableGeotiff: GCBM's per-block indicator GeoTIFFs.

Each enabled item of `modules_output.json` (a variable, a sum of pools, or signed sums of flux
groups) becomes one GeoTIFF per block and step, named and laid out as GCBM does
(`<item>/<lon>_<lat>/<item>_<lon>_<lat>_<block>_<step>.tif`, FLINT's writevariablegeotiff.cpp).
After the run, `mosaics.write_mosaics` makes each item and step a Cloud-Optimized GeoTIFF of the
whole study area from these files.

A block file's tiles divide the block (80 x 80 cells for GCBM's 400-cell blocks), so a mosaic's
full-resolution tiles are the block files' tiles, copied without decompressing; only tiles that
hold simulated cells are stored at all. For the mosaics' overviews the writer also keeps the
values of the cells each overview level samples, in a scratch file per block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine

from flintcloud.flint.config import ConfigView
from flintcloud.gcbm.outputs.layout import INIT_LABEL, item_unit
from flintcloud.gcbm.project.config import Grid
from flintcloud.gcbm.project.rasters import BlockWindow
from flintcloud.gcbm.science.pools import POOL_BY_NAME
from flintcloud.gcbm.science.simulation import Trajectory
from flintcloud.io.geotiff import TILE, SparseTiles
from flintcloud.io.tiled_tiff import write_tiled_file

# variable_data_type -> NumPy type, as WriteVariableGeotiff maps them (Int64 and UInt64 are
# written as 32-bit, any unknown name as Int16).
DATA_TYPES = {"UInt8": np.uint8, "UInt16": np.uint16, "Int16": np.int16, "Int32": np.int32,
              "UInt32": np.uint32, "Int64": np.int32, "UInt64": np.uint32, "float": np.float32,
              "double": np.float64}
NOTIFICATIONS = {"OutputStep", "TimingInit"}
FLUX_SOURCES = {"disturbance", "annual_process"}
ITEM_KEYS = {"data_name", "enabled", "variable_data_type", "on_notification", "variable_name",
             "pool_name", "flux", "apply_area_adjustment", "subtract_previous_value",
             "nodata_value", "output_annual_only", "output_interval", "output_path",
             "force_variable_folder_name"}
SETTINGS_KEYS = {"items", "output_path", "apply_area_adjustment", "force_variable_folder_name"}
VARIABLES = {"age", "landUnitArea"}  # per-pixel variables the engine keeps for every step
MAX_OVERVIEW_FACTOR = 2**16  # coarsest overview sampled: 65,536 cells (16 degrees at 0.00025)


def default_nodata(dtype: type) -> float:
    """lowest() for integers, -10**max_exponent10 for floats (-1e38 float32, -1e308 float64)."""
    if np.issubdtype(dtype, np.integer):
        return int(np.iinfo(dtype).min)
    return float(dtype(-(10.0 ** int(np.log10(np.finfo(dtype).max)))))


@dataclass(frozen=True)
class FluxGroup:
    """Fluxes from any of `sources` to any of `sinks` (empty: any pool), of one kind, ± signed."""

    sources: frozenset[int]
    sinks: frozenset[int]
    kind: str  # "any", "disturbance" or "annual_process"
    disturbance_types: frozenset[str]  # only with kind "disturbance"; empty: all
    subtract: bool

    def matches(self, key: tuple[str, int, int, int], type_names: Sequence[str]) -> bool:
        _, dist, source, sink = key
        if source == sink:
            return False
        if self.kind == "disturbance" and (dist < 0 or (
                self.disturbance_types and type_names[dist] not in self.disturbance_types)):
            return False
        if self.kind == "annual_process" and dist >= 0:
            return False
        return (not self.sources or source in self.sources) and \
            (not self.sinks or sink in self.sinks)


@dataclass(frozen=True)
class OutputItem:
    name: str
    dtype: type
    nodata: float
    at_init: bool  # on_notification TimingInit: one file, step 0
    variable: str | None
    pools: tuple[int, ...]
    fluxes: tuple[FluxGroup, ...]
    area_adjustment: bool
    subtract_previous: bool
    folder: Path  # output path, already including the item folder

    @property
    def kind(self) -> str:
        return "variable" if self.variable else "pools" if self.pools else "fluxes"

    @property
    def unit(self) -> str:
        return item_unit(variable=self.variable, is_flux=bool(self.fluxes),
                         area_adjusted=self.area_adjustment,
                         subtract_previous=self.subtract_previous)

    def steps(self, n_steps: int) -> list[int]:
        """The steps it has a file for: 0 (init) only, or every simulated year's."""
        return [0] if self.at_init else list(range(1, n_steps + 1))

    def year_label(self, step: int, start_year: int) -> str:
        return INIT_LABEL if self.at_init else str(start_year + step - 1)

    def manifest_entry(self, run_dir: Path, start_year: int, n_steps: int,
                       mosaics: dict[str, str]) -> dict[str, Any]:
        """What the run's manifest says of the item (layout.py): the service and UI read it."""
        return {"name": self.name, "unit": self.unit, "kind": self.kind,
                "dtype": np.dtype(self.dtype).name, "nodata": self.nodata,
                "folder": self.folder.relative_to(run_dir).as_posix(),
                "years": [self.year_label(step, start_year) for step in self.steps(n_steps)],
                "mosaics": mosaics}


def read_output_items(module: ConfigView, output_dir: Path) -> list[OutputItem]:
    """The enabled items of a WriteVariableGeotiff module; unsupported settings are errors."""
    settings = module.child("settings")
    for key, _ in settings.items():
        if key not in SETTINGS_KEYS:
            raise settings.error(f"setting {key!r} is not supported", key)
    area = settings.boolean("apply_area_adjustment", False)
    force_folder = settings.boolean("force_variable_folder_name", True)
    items = []
    for element in settings.child("items").elements():
        element.expect_object()
        if not element.boolean("enabled", True):
            continue
        items.append(_item(element, output_dir, area, force_folder))
    names = [item.name for item in items]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise settings.error(f"items share data_name {duplicates}: their files would overwrite "
                             "each other", "items")
    return items


def _item(element: ConfigView, output_dir: Path, area: bool, force_folder: bool) -> OutputItem:
    for key, _ in element.items():
        if key not in ITEM_KEYS:
            raise element.error(f"item setting {key!r} is not supported", key)
    name = element.string("data_name")
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise element.error(f"data_name {name!r} must be a plain file name", "data_name")
    dtype = DATA_TYPES.get(element.string("variable_data_type"), np.int16)
    notification = element.string("on_notification", "TimingInit")
    if notification not in NOTIFICATIONS:
        raise element.error(f"on_notification {notification!r} is not supported",
                            "on_notification", hint=f"supported: {sorted(NOTIFICATIONS)}")
    for key in ("output_annual_only", "output_interval"):
        if key in element and element.get(key) not in (False, 1):
            raise element.error(f"{key} is not supported (annual steps only)", key)
    if "output_path" in element:
        raise element.error("a per-item output_path is not supported", "output_path")
    variable = element.string("variable_name", "") or None
    pools = tuple(_pool(element, "pool_name", name) for name in _names(element, "pool_name"))
    fluxes = tuple(_flux_group(group) for group in _groups(element))
    kinds = sum(bool(x) for x in (variable, pools, fluxes))
    if kinds != 1:
        raise element.error("an item needs exactly one of variable_name, pool_name, flux")
    if variable is not None and variable not in VARIABLES:
        raise element.error(f"variable {variable!r} cannot be written per pixel", "variable_name",
                            hint=f"supported: {sorted(VARIABLES)}")
    nodata = element.number("nodata_value") if "nodata_value" in element else default_nodata(dtype)
    folder = output_dir / name if force_folder else output_dir
    return OutputItem(name, dtype, nodata, notification == "TimingInit", variable, pools, fluxes,
                      element.boolean("apply_area_adjustment", area),
                      element.boolean("subtract_previous_value", False), folder)


def _names(view: ConfigView, key: str) -> list[str]:
    if key not in view:
        return []
    value = view.get(key)
    return [value] if isinstance(value, str) else [e.value for e in view.child(key).elements()]


def _pool(view: ConfigView, key: str, name: str) -> int:
    if name not in POOL_BY_NAME:
        raise view.error(f"no pool named {name!r}", key)
    return int(POOL_BY_NAME[name])


def _groups(element: ConfigView) -> list[ConfigView]:
    if "flux" not in element:
        return []
    flux = element.child("flux")
    return list(flux.elements()) if isinstance(flux.value, list) else [flux]


def _flux_group(group: ConfigView) -> FluxGroup:
    group.expect_object()
    for key, _ in group.items():
        if key not in ("from", "to", "flux_source", "subtract", "disturbance_types"):
            raise group.error(f"flux setting {key!r} is not supported", key)
    kind = group.string("flux_source", "any").lower()
    if kind not in FLUX_SOURCES | {"any"}:
        kind = "any"  # as upstream: an unknown source means all fluxes
    return FluxGroup(frozenset(_pool(group, "from", n) for n in _names(group, "from")),
                     frozenset(_pool(group, "to", n) for n in _names(group, "to")), kind,
                     frozenset(_names(group, "disturbance_types")) if kind == "disturbance"
                     else frozenset(), group.boolean("subtract", False))


def tile_label(x: int, y: int) -> str:
    """GCBM's tile folder label: sign and 3 digits each, e.g. -106_055."""
    return f"{'-' if x < 0 else ''}{abs(x):03d}_{'-' if y < 0 else ''}{abs(y):03d}"


def block_tile(grid: Grid) -> int:
    """The block files' tile size: the largest multiple of 16 up to 128 that divides the block
    on both axes (80 for 400-cell blocks), so that mosaics reuse the blocks' tiles; else 256."""
    rows, cols = grid.cells_per_block
    for size in range(128, 15, -16):
        if rows % size == 0 and cols % size == 0:
            return size
    return TILE


def global_origin(window: BlockWindow, grid: Grid) -> tuple[int, int]:
    """The block's first cell as (row, col) on the global grid from 90N 180W."""
    return (round((90.0 - window.tile.y) / grid.cell_lat) + window.row,
            round((window.tile.x + 180.0) / grid.cell_lon) + window.col)


@dataclass(frozen=True)
class Segment:
    """An array in a block's scratch file."""

    offset: int
    dtype: str
    shape: tuple[int, ...]

    def read(self, path: Path) -> np.ndarray:
        count = int(np.prod(self.shape))
        return np.fromfile(path, self.dtype, count, offset=self.offset).reshape(self.shape)


@dataclass
class BlockFiles:
    """What the writer wrote for one block: small and picklable (a task returns it).

    `files`: (item, step) -> row of `paths`, `hashes` (size, sha256) and `tile_sizes` (of its
    full-resolution tiles, which end the file). With mosaics, `samples` is the block's scratch
    file: `positions` holds the global (row, col) of the cells each mosaic level samples,
    `counts` how many per level, `values` each item's values there, one row per step. Level 0
    (full resolution) is sampled only when the mosaic cannot reuse the block's tiles."""

    window: BlockWindow
    files: dict[tuple[str, int], int] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    hashes: list[tuple[int, str]] = field(default_factory=list)
    tile_sizes: list[np.ndarray] = field(default_factory=list)
    samples: Path | None = None
    full_resolution_sampled: bool = False
    counts: list[int] = field(default_factory=list)
    positions: Segment | None = None
    values: dict[str, Segment] = field(default_factory=dict)

    def of_items(self, names: set[str]) -> BlockFiles:
        """What was written for the items `names` only: what a task making their mosaics
        needs (a task is sent its blocks' receipts, ~0.1 MB a block for all 21 items)."""
        rows = [(key, row) for key, row in self.files.items() if key[0] in names]
        return replace(self, files={key: k for k, (key, _) in enumerate(rows)},
                       paths=[self.paths[row] for _, row in rows],
                       hashes=[self.hashes[row] for _, row in rows],
                       tile_sizes=[self.tile_sizes[row] for _, row in rows],
                       values={name: v for name, v in self.values.items() if name in names})


@dataclass(frozen=True)
class SimulatedBlock:
    """What the writer needs of a simulated block."""

    window: BlockWindow
    cell_index: np.ndarray  # (pixels,) row * n_cols + col
    area_ha: np.ndarray  # (pixels,)
    stand_of_pixel: np.ndarray  # (pixels,) column of the trajectory
    trajectory: Trajectory
    disturbance_types: Sequence[str]

    def pixel_values(self, per_stand: np.ndarray) -> np.ndarray:
        return per_stand[..., self.stand_of_pixel]


class _ScratchFile:
    """Arrays for one file, written in one go."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.arrays: list[np.ndarray] = []
        self.size = 0

    def add(self, array: np.ndarray) -> Segment:
        array = np.ascontiguousarray(array)
        self.arrays.append(array)
        self.size += array.nbytes
        return Segment(self.size - array.nbytes, array.dtype.str, array.shape)

    def write(self) -> None:
        with open(self.path, "wb") as file:
            file.writelines(array.data for array in self.arrays)


class BlockGeotiffWriter:
    """Writes every item's GeoTIFFs for a simulated block, where the block was simulated (here,
    or in a task on a worker), and returns what it wrote. Picklable: it travels with the task."""

    def __init__(self, items: list[OutputItem], grid: Grid, *,
                 samples_dir: Path | None = None) -> None:
        """Files are written in place: the items' folders are in a run's staging directory,
        moved into place when the run completes. `samples_dir`: where to keep the cells the
        mosaics' overviews sample (None: no mosaics)."""
        self.items = items
        self.grid = grid
        self.tile = block_tile(grid)
        rows, cols = grid.cells_per_block
        self.reuse_tiles = rows % self.tile == 0 and cols % self.tile == 0
        self.samples_dir = samples_dir

    def write(self, block: SimulatedBlock) -> BlockFiles:
        return self.write_values(block.window, block.cell_index, self.stored_values(block))

    def stored_values(self, block: SimulatedBlock) -> dict[str, np.ndarray]:
        """Each item's (files, pixels) values for the block's pixels, in their order: a block
        simulated in parts fills `empty_values` part by part, then `write_values`."""
        return {item.name: self._stored_values(item, block) for item in self.items}

    def empty_values(self, n_steps: int, n_pixels: int) -> dict[str, np.ndarray]:
        return {item.name: np.empty((len(item.steps(n_steps)), n_pixels), dtype=item.dtype)
                for item in self.items}

    def write_values(self, window: BlockWindow, cell_index: np.ndarray,
                     stored: dict[str, np.ndarray]) -> BlockFiles:
        """Every item's files for a block whose pixels `cell_index` (row * n_cols + col) hold
        `stored` (`stored_values`), and the cells its mosaics' overviews sample."""
        rows, cols = np.divmod(cell_index, window.n_cols)
        tiles = SparseTiles(rows, cols, window.n_cols, window.n_rows, self.tile)
        # pixels tile by tile, so that each file's values need no reordering
        rows, cols = rows[tiles.order], cols[tiles.order]
        receipt = BlockFiles(window)
        scratch, sampled = None, np.zeros(0, dtype=np.intp)
        if self.samples_dir is not None:
            self.samples_dir.mkdir(parents=True, exist_ok=True)
            receipt.samples = self.samples_dir / \
                f"{tile_label(window.tile.x, window.tile.y)}_{window.block_idx}.bin"
            scratch = _ScratchFile(receipt.samples)
            sampled = self._sample(receipt, rows, cols, scratch)
        for item in self.items:
            values = stored[item.name][:, tiles.order]
            self._write_files(item, window, tiles, values, receipt)
            if scratch is not None:
                receipt.values[item.name] = scratch.add(values[:, sampled])
        if scratch is not None:
            scratch.write()
        return receipt

    def _sample(self, receipt: BlockFiles, rows: np.ndarray, cols: np.ndarray,
                scratch: _ScratchFile) -> np.ndarray:
        """Record where the mosaic levels sample this block; return the sampled cells' indices."""
        row0, col0 = global_origin(receipt.window, self.grid)
        global_rows, global_cols = row0 + rows, col0 + cols
        index = np.arange(len(rows))
        levels = [] if self.reuse_tiles else [index]
        factor = 2
        while factor <= MAX_OVERVIEW_FACTOR:  # each level samples a subset of the one before
            keep = (global_rows[index] % factor == factor - 1) & \
                   (global_cols[index] % factor == factor - 1)
            index = index[keep]
            levels.append(index)
            factor *= 2
        sampled = np.concatenate(levels)
        receipt.full_resolution_sampled = not self.reuse_tiles
        receipt.counts = [len(level) for level in levels]
        receipt.positions = scratch.add(np.stack([global_rows[sampled], global_cols[sampled]]))
        return sampled

    def _write_files(self, item: OutputItem, window: BlockWindow, tiles: SparseTiles,
                     stored: np.ndarray, receipt: BlockFiles) -> None:
        """One file per step (TimingInit items: step 0 only)."""
        transform = Affine(self.grid.cell_lon, 0.0, window.west, 0.0, -self.grid.cell_lat,
                           window.north)
        label = tile_label(window.tile.x, window.tile.y)
        folder = item.folder / label
        folder.mkdir(parents=True, exist_ok=True)
        levels = tiles.levels(stored, item.nodata, in_tile_order=True)
        # paths as strings: a Path object a file costs pathlib parsing (~2 µs) for no use
        prefix = f"{folder}/{item.name}_{label}_{window.block_idx:02d}_"
        for step, level in zip(item.steps(len(stored)), levels, strict=True):
            path = f"{prefix}{step}.tif"
            written = write_tiled_file(path, [level], item.dtype, transform, item.nodata)
            receipt.files[(item.name, step)] = len(receipt.paths)
            receipt.paths.append(path)
            receipt.hashes.append((written.size, written.sha256))
            receipt.tile_sizes.append(written.tile_sizes)

    def _stored_values(self, item: OutputItem, block: SimulatedBlock) -> np.ndarray:
        """(files, pixels): what each of the item's files stores for each simulated pixel, as
        GCBM stores it: the sum in double, cast to the item's type, then (optionally) times the
        pixel's area, then (optionally) minus the previous file, in the item's type."""
        steps = item.steps(block.trajectory.age.shape[0] - 1)
        values: np.ndarray
        if item.variable == "landUnitArea":
            values = np.tile(block.area_ha.astype(item.dtype), (len(steps), 1))
        else:
            values = block.pixel_values(self._stand_values(item, block, steps))
        if item.area_adjustment:
            values = (values * block.area_ha).astype(item.dtype)
        if item.subtract_previous:
            values[1:] = (values[1:] - values[:-1]).astype(item.dtype)
        return values

    @staticmethod
    @lru_cache(maxsize=256)
    def _flux_signs(item: OutputItem, keys: tuple[tuple[str, int, int, int], ...],
                    type_names: tuple[str, ...]) -> list[tuple[int, float]]:
        """(flux key index, ±1) of every flux key the item's groups count: the same for every
        block whose batch recorded the same flux keys (most of a run's)."""
        signs = []
        for k, key in enumerate(keys):
            sign = sum(-1.0 if group.subtract else 1.0 for group in item.fluxes
                       if group.matches(key, type_names))
            if sign:
                signs.append((k, sign))
        return signs

    def _stand_values(self, item: OutputItem, block: SimulatedBlock,
                      steps: list[int]) -> np.ndarray:
        """(steps, stands) in the item's type."""
        trajectory = block.trajectory
        if item.variable == "age":
            return trajectory.age[steps].astype(item.dtype)
        total = np.zeros((len(steps), trajectory.age.shape[1]), dtype=np.float64)
        if item.pools:
            for pool in item.pools:  # summed in the listed order, as GCBM does
                total = total + trajectory.pools[steps, pool]
            return total.astype(item.dtype)
        signs = self._flux_signs(item, tuple(trajectory.flux_keys),
                                 tuple(block.disturbance_types))
        rows = [row for row, step in enumerate(steps) if step > 0]  # no fluxes before step 1
        if not rows or not signs:
            return total.astype(item.dtype)
        keys = [k for k, _ in signs]
        fluxes = np.stack([trajectory.fluxes[steps[row] - 1][keys] for row in rows])
        step_totals = total[rows]
        for j, (_, sign) in enumerate(signs):  # in key order, as GCBM sums them
            step_totals = step_totals + sign * fluxes[:, j]
        total[rows] = step_totals
        return total.astype(item.dtype)
