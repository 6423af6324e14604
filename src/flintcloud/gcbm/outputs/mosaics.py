"""Whole-study-area Cloud-Optimized GeoTIFFs of a run's WriteVariableGeotiff items, made from
the block files the run wrote: `cog/<item>_<year>.tif` (`<item>_init.tif` for TimingInit items),
which web maps and QGIS read directly.

When the block files' tiles divide the block (geotiffs.block_tile), a mosaic's full-resolution
tiles are those files' tiles, copied without decompressing; overviews are made from the cells
each level samples, which the block writer kept in a scratch file per block.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from affine import Affine

from flintcloud.gcbm.outputs.geotiffs import (
    MAX_OVERVIEW_FACTOR,
    BlockFiles,
    OutputItem,
    Segment,
    block_tile,
    global_origin,
)
from flintcloud.gcbm.outputs.layout import cog_name
from flintcloud.gcbm.project.config import Grid
from flintcloud.io.geotiff import SparseTiles, overview_factors
from flintcloud.io.tiled_tiff import Level, Written, write_tiled_file

MIN_OVERVIEW_SIZE = 1024  # pixels a side: smaller mosaics get no overviews


class MosaicLayout:
    """Where each block's tiles and sampled cells go in the study area's mosaics (the same for
    every item and step): the bounding box of the written blocks, in their file's tile size."""

    def __init__(self, blocks: list[BlockFiles], grid: Grid, tile: int) -> None:
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
            bounds = np.cumsum([0] + block.counts)
            stored = [0] if not self.reuse_tiles else []
            stored += [first + int(np.log2(f)) - 1 for f in factors]
            self.slices.append([slice(bounds[k], bounds[k + 1]) for k in stored])
        self.sampled = self._sampled_tiles()
        if self.reuse_tiles:
            self._place_block_tiles(origins)

    def _sampled_tiles(self) -> list[SparseTiles]:
        positions = [_read(block.positions, block.samples) for block in self.blocks]
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

    def _place_block_tiles(self, origins: list[tuple[int, int]]) -> None:
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

    def _copied_level(self, key: tuple[str, int], item: OutputItem) -> Level:
        """Full resolution: the block files' tiles, read with one call per file. A block file
        ends with its tiles, in order (sparse ones take no bytes)."""
        sizes = np.zeros(len(self.owner), dtype=np.int64)
        data, starts = [], []
        for block, ids in zip(self.blocks, self.tile_ids, strict=True):
            row = block.files[key]
            these = np.asarray(block.tile_sizes[row], dtype=np.int64)
            sizes[ids] = these
            file_size, total = block.hashes[row][0], int(these.sum())
            with open(block.paths[row], "rb") as file:
                file.seek(file_size - total)
                data.append(memoryview(file.read(total)))
            starts.append(np.concatenate([[0], np.cumsum(these)]))
        chunks = [data[owner][int(starts[owner][first]):int(starts[owner][last + 1])]
                  for _, _, owner, first, last in self.runs if owner >= 0]
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
        per_block = [_read(block.values[item.name], block.samples) for block in blocks]
        steps = item.steps(per_block[0].shape[0])
        for step, levels in zip(steps, layout.levels(item, per_block, steps), strict=True):
            path = folder / cog_name(item.name, item.year_label(step, start_year))
            written[path] = write_tiled_file(path, levels, item.dtype, layout.transform,
                                             item.nodata)
    return written


def _read(segment: Segment | None, path: Path | None) -> np.ndarray:
    if segment is None or path is None:
        raise ValueError("mosaics need the blocks' samples (a writer with samples_dir)")
    return segment.read(path)
