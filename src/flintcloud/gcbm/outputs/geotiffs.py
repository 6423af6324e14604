"""WriteVariableGeotiff: GCBM's per-block indicator GeoTIFFs, and whole-study-area COGs.

Each enabled item of `modules_output.json` (a variable, a sum of pools, or signed sums of flux
groups) becomes one GeoTIFF per block and step, named and laid out as GCBM does
(`<item>/<lon>_<lat>/<item>_<lon>_<lat>_<block>_<step>.tif`, FLINT's writevariablegeotiff.cpp).
After the run, `write_mosaics` turns each item and step into a Cloud-Optimized GeoTIFF of the
whole study area (`cog/<item>_<year>.tif`), which web maps and QGIS read directly.

A block file's tiles divide the block (80 x 80 cells for GCBM's 400-cell blocks), so a mosaic's
full-resolution tiles are the block files' tiles, copied without decompressing; only tiles that
hold simulated cells are compressed at all. For the mosaics' overviews each block writer also
keeps the values of the cells each overview level samples, in a scratch file per block.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from affine import Affine

from flintcloud.flint.config import ConfigView
from flintcloud.gcbm.science.pools import POOL_BY_NAME
from flintcloud.io.geotiff import TILE, SparseTiles, overview_factors
from flintcloud.io.tiled_tiff import Level, Written, empty_tile, write_tiled_file

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
MIN_OVERVIEW_SIZE = 1024  # pixels a side: smaller mosaics get no overviews
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

    def matches(self, key: tuple[str, int, int, int], type_names) -> bool:
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


def block_tile(grid) -> int:
    """The block files' tile size: the largest multiple of 16 up to 128 that divides the block
    on both axes (80 for 400-cell blocks), so that mosaics reuse the blocks' tiles; else 256."""
    rows, cols = grid.cells_per_block
    for size in range(128, 15, -16):
        if rows % size == 0 and cols % size == 0:
            return size
    return TILE


def global_origin(window, grid) -> tuple[int, int]:
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
    """What the writer wrote for one block; picklable (Dask workers return it).

    `files`: (item, step) -> row of `paths`, `hashes` (size, sha256), `tile_offsets` and
    `tile_sizes` (of its full-resolution tiles): arrays, which pickle fast. With mosaics,
    `samples` is the block's scratch file: `positions` holds the global (row, col) of the cells
    each mosaic level samples, `counts` how many per level, `values` each item's values there,
    one row per step. Level 0 (full resolution) is sampled only when the mosaic cannot reuse
    the block's tiles."""

    window: object
    files: dict[tuple[str, int], int] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    hashes: list[tuple[int, str]] = field(default_factory=list)
    tile_offsets: np.ndarray | list = field(default_factory=list)
    tile_sizes: np.ndarray | list = field(default_factory=list)
    samples: Path | None = None
    full_resolution_sampled: bool = False
    counts: list[int] = field(default_factory=list)
    positions: Segment | None = None
    values: dict[str, Segment] = field(default_factory=dict)


@dataclass(frozen=True)
class SimulatedBlock:
    """What the writer needs of a simulated block (a tenth of its pickled size)."""

    window: object
    cell_index: np.ndarray  # (pixels,) row * n_cols + col
    area_ha: np.ndarray  # (pixels,)
    stand_of_pixel: np.ndarray  # (pixels,) column of the trajectory
    trajectory: object
    disturbance_types: list[str]

    @classmethod
    def of(cls, block) -> SimulatedBlock:
        if isinstance(block, SimulatedBlock):
            return block
        return cls(block.window, block.data.cell_index, block.data.area_ha, block.stand_of_pixel,
                   block.trajectory, block.data.parameters.params.disturbances.type_names)

    def pixel_values(self, per_stand: np.ndarray) -> np.ndarray:
        return per_stand[..., self.stand_of_pixel]

    def reordered(self, order: np.ndarray) -> SimulatedBlock:
        """The same block with its pixels in `order`."""
        return replace(self, cell_index=self.cell_index[order], area_ha=self.area_ha[order],
                       stand_of_pixel=self.stand_of_pixel[order])


class _ScratchFile:
    """Arrays for one file, written in one go."""

    def __init__(self, path: Path) -> None:
        self.path, self.arrays, self.size = path, [], 0

    def add(self, array: np.ndarray) -> Segment:
        array = np.ascontiguousarray(array)
        self.arrays.append(array)
        self.size += array.nbytes
        return Segment(self.size - array.nbytes, array.dtype.str, array.shape)

    def write(self) -> None:
        with open(self.path, "wb") as file:
            file.writelines(array.data for array in self.arrays)


# Folders this process has made. A writer is copied to its process for every block, so this
# lives here; a run's folders are in a staging folder with a unique name.
_MADE: set[Path] = set()
_CREATED: set[str] = set()  # files created empty ahead of their block (`create_files`)


class _KeptTiles:
    """The full-resolution tiles of the block files this process wrote, kept (up to a bound)
    for the mosaics this process writes next, which would otherwise read them back."""

    LIMIT = 256 * 2**20  # bytes

    def __init__(self) -> None:
        self.tiles: dict[str, bytes] = {}
        self.size = 0

    def keep(self, path: str, chunks: list[bytes]) -> None:
        if self.size < self.LIMIT:
            self.tiles[path] = data = b"".join(chunks)
            self.size += len(data)

    def take(self, path: str) -> bytes | None:
        """The tiles of the file at `path` if kept (once: a mosaic reads each file once)."""
        data = self.tiles.pop(path, None)
        self.size -= len(data) if data is not None else 0
        return data


_KEPT = _KeptTiles()


class BlockGeotiffWriter:
    """Writes every item's GeoTIFFs for each simulated block it is given (an `on_block` sink,
    picklable: under Dask each worker writes its blocks and returns what it wrote)."""

    def __init__(self, items: list[OutputItem], grid, *, samples_dir: Path | None = None,
                 keep_tiles: bool = False) -> None:
        """Files are written in place: the items' folders are in a run's staging directory,
        moved into place when the run completes. `samples_dir`: where to keep the cells the
        mosaics' overviews sample (None: no mosaics). `keep_tiles`: keep the files' tiles in
        memory, when the process that writes them writes mosaics next (a run's own child)."""
        self.items = items
        self.grid = grid
        self.tile = block_tile(grid)
        rows, cols = grid.cells_per_block
        self.reuse_tiles = rows % self.tile == 0 and cols % self.tile == 0
        self.samples_dir = samples_dir
        self.keep_tiles = keep_tiles and samples_dir is not None
        self.blocks: list[BlockFiles] = []

    def collect(self, receipt: BlockFiles) -> None:
        """Record files a (possibly remote) call wrote."""
        self.blocks.append(receipt)

    @staticmethod
    def prepare(block) -> SimulatedBlock:
        """What to send to another process: the part of a block result the writer reads."""
        return SimulatedBlock.of(block)

    def __call__(self, block) -> BlockFiles:
        block = SimulatedBlock.of(block)
        window = block.window
        rows, cols = np.divmod(block.cell_index, window.n_cols)
        tiles = SparseTiles(rows, cols, window.n_cols, window.n_rows, self.tile)
        # pixels tile by tile, so that each file's values need no reordering
        block, rows, cols = block.reordered(tiles.order), rows[tiles.order], cols[tiles.order]
        receipt = BlockFiles(window)
        scratch = sampled = None
        if self.samples_dir is not None:
            self._make(self.samples_dir)
            receipt.samples = self.samples_dir / \
                f"{tile_label(window.tile.x, window.tile.y)}_{window.block_idx}.bin"
            scratch = _ScratchFile(receipt.samples)
            sampled = self._sample(receipt, rows, cols, scratch)
        for item in self.items:
            stored = self._stored_values(item, block)
            self._write_files(item, block, tiles, stored, receipt)
            if scratch is not None:
                receipt.values[item.name] = scratch.add(stored[:, sampled])
        if scratch is not None:
            scratch.write()
        receipt.tile_offsets = np.array(receipt.tile_offsets)
        receipt.tile_sizes = np.array(receipt.tile_sizes)
        return receipt

    @staticmethod
    def _make(folder: Path) -> None:
        if folder not in _MADE:
            folder.mkdir(parents=True, exist_ok=True)
            _MADE.add(folder)

    def _sample(self, receipt: BlockFiles, rows, cols, scratch: _ScratchFile) -> np.ndarray:
        """Record where the mosaic levels sample this block; return the sampled cells' indices."""
        window = receipt.window
        row0, col0 = global_origin(window, self.grid)
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

    def create_files(self, window, n_steps: int) -> None:
        """Create, empty, the files of a block that is to be simulated, before its results come:
        in the writer's process, while the engine spins up, when creating files is slow. Those
        that its block does not fill are removed by `remove_unfilled`."""
        for item in self.items:
            for step in ([0] if item.at_init else range(1, n_steps + 1)):
                path = self._path(item, window, step)
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
                _CREATED.add(str(path))

    @staticmethod
    def remove_unfilled() -> None:
        """Remove the files `create_files` made that no block filled."""
        for path in _CREATED:
            Path(path).unlink(missing_ok=True)
        _CREATED.clear()

    def _path(self, item: OutputItem, window, step: int) -> Path:
        label = tile_label(window.tile.x, window.tile.y)
        folder = item.folder / label
        self._make(folder)
        return folder / f"{item.name}_{label}_{window.block_idx:02d}_{step}.tif"

    def _write_files(self, item: OutputItem, block, tiles: SparseTiles, stored: np.ndarray,
                     receipt: BlockFiles) -> None:
        """One file per step (TimingInit items: step 0 only)."""
        window = block.window
        transform = Affine(self.grid.cell_lon, 0.0, window.west, 0.0, -self.grid.cell_lat,
                           window.north)
        steps = [0] if item.at_init else range(1, len(stored) + 1)
        levels = tiles.levels(stored, item.nodata, in_tile_order=True)
        for step, level in zip(steps, levels, strict=True):
            path = self._path(item, window, step)
            written = write_tiled_file(path, [level], item.dtype, transform, item.nodata)
            _CREATED.discard(str(path))
            if self.keep_tiles:
                _KEPT.keep(str(path), level.tiles)
            receipt.files[(item.name, step)] = len(receipt.paths)
            receipt.paths.append(str(path))
            receipt.hashes.append((written.size, written.sha256))
            receipt.tile_offsets.append(written.tile_offsets)
            receipt.tile_sizes.append(written.tile_sizes)

    def _stored_values(self, item: OutputItem, block) -> np.ndarray:
        """(files, pixels): what each of the item's files stores for each simulated pixel, as
        GCBM stores it: the sum in double, cast to the item's type, then (optionally) times the
        pixel's area, then (optionally) minus the previous file, in the item's type."""
        steps = [0] if item.at_init else list(range(1, block.trajectory.age.shape[0]))
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
    def _flux_signs(item: OutputItem, keys, type_names) -> list[tuple[int, float]]:
        """(flux key index, ±1) of every flux key the item's groups count."""
        signs = []
        for k, key in enumerate(keys):
            sign = sum(-1.0 if group.subtract else 1.0 for group in item.fluxes
                       if group.matches(key, type_names))
            if sign:
                signs.append((k, sign))
        return signs

    def _stand_values(self, item: OutputItem, block, steps: list[int]) -> np.ndarray:
        """(steps, stands) in the item's type."""
        trajectory = block.trajectory
        if item.variable == "age":
            return trajectory.age[steps].astype(item.dtype)
        total = np.zeros((len(steps), trajectory.age.shape[1]), dtype=np.float64)
        if item.pools:
            for pool in item.pools:  # summed in the listed order, as GCBM does
                total = total + trajectory.pools[steps, pool]
            return total.astype(item.dtype)
        signs = self._flux_signs(item, trajectory.flux_keys,
                                 block.disturbance_types)
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


class MosaicLayout:
    """Where each block's tiles and sampled cells go in the study area's mosaics (the same for
    every item and step): the bounding box of the written blocks, in their file's tile size."""

    def __init__(self, blocks: list[BlockFiles], grid, tile: int) -> None:
        self.blocks, self.tile = blocks, tile
        origins = [global_origin(block.window, grid) for block in blocks]
        self.row0 = min(row for row, _ in origins)
        self.col0 = min(col for _, col in origins)
        ends = [(row + b.window.n_rows, col + b.window.n_cols)
                for (row, col), b in zip(origins, blocks, strict=True)]
        self.height = max(row for row, _ in ends) - self.row0
        self.width = max(col for _, col in ends) - self.col0
        self.transform = Affine(grid.cell_lon, 0.0, min(b.window.west for b in blocks), 0.0,
                                -grid.cell_lat, max(b.window.north for b in blocks))
        factors = []
        if max(self.width, self.height) > MIN_OVERVIEW_SIZE:
            factors = [f for f in overview_factors(self.width, self.height, tile)
                       if f <= MAX_OVERVIEW_FACTOR]
        self.reuse_tiles = not blocks[0].full_resolution_sampled
        self.factors = factors if self.reuse_tiles else [1] + factors
        # each block's samples of each level in `factors`, as slices of its sample vector
        first = 0 if self.reuse_tiles else 1  # sample levels stored: [1 if sampled], 2, 4, ...
        self.slices = []
        for block in blocks:
            ends = np.cumsum([0] + block.counts)
            levels = [0] if not self.reuse_tiles else []
            levels += [first + int(np.log2(f)) - 1 for f in factors]
            self.slices.append([slice(ends[k], ends[k + 1]) for k in levels])
        self.sampled = self._sampled_tiles()
        if self.reuse_tiles:
            self._place_block_tiles(origins)

    def _sampled_tiles(self) -> list[SparseTiles]:
        positions = [block.positions.read(block.samples) for block in self.blocks]
        levels = []
        for k, factor in enumerate(self.factors):
            rows = np.concatenate([p[0, s[k]] for p, s in zip(positions, self.slices, strict=True)])
            cols = np.concatenate([p[1, s[k]] for p, s in zip(positions, self.slices, strict=True)])
            levels.append(SparseTiles((rows - self.row0) // factor, (cols - self.col0) // factor,
                                      -(-self.width // factor), -(-self.height // factor),
                                      self.tile))
        return levels

    def forget(self) -> None:
        for tiles in self.sampled:
            tiles.forget()

    def _place_block_tiles(self, origins) -> None:
        """For each full-resolution tile: the block whose tile it is (-1: none) and which."""
        across, down = -(-self.width // self.tile), -(-self.height // self.tile)
        self.owner = np.full(across * down, -1)
        self.source = np.zeros(across * down, dtype=np.int64)
        self.tile_ids = []
        for number, ((row, col), block) in enumerate(zip(origins, self.blocks, strict=True)):
            first_row, first_col = (row - self.row0) // self.tile, (col - self.col0) // self.tile
            rows, cols = block.window.n_rows // self.tile, block.window.n_cols // self.tile
            ids = ((first_row + np.arange(rows))[:, None] * across +
                   first_col + np.arange(cols)).ravel()
            self.owner[ids] = number
            self.source[ids] = np.arange(len(ids))
            self.tile_ids.append(ids)
        # runs of consecutive tiles that are consecutive in one block file (or all empty)
        n = len(self.owner)
        breaks = np.flatnonzero((self.owner[1:] != self.owner[:-1]) |
                                (self.source[1:] != self.source[:-1] + 1)) + 1
        starts, ends = np.r_[0, breaks], np.r_[breaks, n]
        self.runs = list(zip(starts.tolist(), ends.tolist(), self.owner[starts].tolist(),
                             self.source[starts].tolist(), self.source[ends - 1].tolist(),
                             strict=True))

    def levels(self, item: OutputItem, samples: list[np.ndarray],
               steps: Sequence[int]) -> list[list[Level]]:
        """The mosaics of one item, one per step: full-resolution tiles and overviews.
        `samples`: each block's sampled values, (steps, cells)."""
        overviews = [tiles.levels(np.concatenate([values[:, s[k]] for values, s in
                                                  zip(samples, self.slices, strict=True)], axis=1),
                                  item.nodata)
                     for k, tiles in enumerate(self.sampled)]
        mosaics = [list(levels) for levels in zip(*overviews, strict=True)] if overviews \
            else [[] for _ in steps]
        if self.reuse_tiles:
            for step, levels in zip(steps, mosaics, strict=True):
                levels.insert(0, self._copied_level((item.name, step), item))
        return mosaics

    def _copied_level(self, key, item: OutputItem) -> Level:
        """Full resolution: the block files' tiles, read with one call per file."""
        empty = empty_tile(np.dtype(item.dtype).str, float(item.nodata), self.tile)
        sizes = np.full(len(self.owner), len(empty))
        rows = [block.files[key] for block in self.blocks]
        offsets = [block.tile_offsets[row] for block, row in zip(self.blocks, rows, strict=True)]
        tile_sizes = [block.tile_sizes[row] for block, row in zip(self.blocks, rows, strict=True)]
        for ids, these in zip(self.tile_ids, tile_sizes, strict=True):
            sizes[ids] = these
        data = []
        for block, row, these, size in zip(self.blocks, rows, offsets, tile_sizes, strict=True):
            kept = _KEPT.take(block.paths[row])
            if kept is None:
                with open(block.paths[row], "rb") as file:
                    file.seek(int(these[0]))
                    kept = file.read(int(size.sum()))
            data.append(memoryview(kept))
        chunks = []
        for start, end, owner, first, last in self.runs:
            if owner < 0:
                chunks.append(empty * (end - start))
                continue
            these = offsets[owner]
            chunks.append(data[owner][int(these[first] - these[0]):
                                      int(these[last] - these[0] + tile_sizes[owner][last])])
        return Level(self.width, self.height, self.tile, sizes, chunks)


def write_mosaics(blocks: list[BlockFiles], items: list[OutputItem], grid, folder: Path,
                  start_year: int) -> dict[Path, Written]:
    """One Cloud-Optimized GeoTIFF per item and step over all written blocks:
    `<folder>/<item>_<year>.tif` (`<item>_init.tif` for TimingInit items). Written in place: the
    folder is in the run's staging directory."""
    if not blocks or not items:
        return {}
    blocks = sorted(blocks, key=lambda b: (b.window.tile.y, b.window.tile.x, b.window.block_idx))
    layout = MosaicLayout(blocks, grid, block_tile(grid))
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for item in items:
        layout.forget()  # tiles kept for reuse: one item's at a time
        per_block = [block.values[item.name].read(block.samples) for block in blocks]
        steps = [0] if item.at_init else range(1, per_block[0].shape[0] + 1)
        for step, levels in zip(steps, layout.levels(item, per_block, steps), strict=True):
            label = "init" if item.at_init else str(start_year + step - 1)
            path = folder / f"{item.name}_{label}.tif"
            written[path] = write_tiled_file(path, levels, item.dtype, layout.transform,
                                             item.nodata)
    return written
