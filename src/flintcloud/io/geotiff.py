"""GeoTIFF writing: one-band rasters in EPSG:4326, tiled and deflated, optionally with
overviews (then Cloud-Optimized GeoTIFFs); and rasters known only at some pixels (a block's
simulated cells, a mosaic's overview samples), whose other tiles are nodata.

Files are written under a temporary name and renamed into place, so a file that exists is whole.
An overview with factor f takes for its cell i the pixel i·f + f − 1 (on both axes), the one
GDAL's nearest resampling takes for f = 2, applied level after level; a partial cell at the
right or bottom edge whose pixel lies outside the image is nodata.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from flintcloud.io.files import atomic_path
from flintcloud.io.tiled_tiff import (
    Level,
    deflate,
    encode_tiles,
    tile_grid,
    write_tiled_file,
)

WGS84 = CRS.from_epsg(4326)
TILE = 256


class SparseTiles:
    """The tiles of a width x height raster that is nodata except at given pixels (rows, cols):
    only tiles holding one of them are filled and compressed. A run's rasters repeat tiles
    (pools that do not change, fluxes that are zero): a tile equal to the step before's, or
    made of one value already seen there, is not compressed again; `forget` drops the latter."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, width: int, height: int,
                 tile: int) -> None:
        across, down = tile_grid(width, height, tile)
        self.width, self.height, self.tile, self.n_tiles = width, height, tile, across * down
        ids = (rows // tile) * across + cols // tile
        self.occupied, slot = np.unique(ids, return_inverse=True)
        # values[self.order] lists the pixels tile by tile: tile i holds the slice
        # starts[i]:starts[i + 1], and pixel k of that list lies at self.inside[k] in its tile
        self.order = np.argsort(slot, kind="stable")
        self.inside = ((rows % tile) * tile + cols % tile)[self.order]
        self.starts = np.searchsorted(slot[self.order], np.arange(len(self.occupied) + 1))
        self.constant: dict[tuple, bytes] = {}

    def forget(self) -> None:
        self.constant = {}

    def levels(self, values: np.ndarray, nodata: float, *,
               in_tile_order: bool = False) -> list[Level]:
        """For each row of `values` (steps x pixels), the raster holding its values at the
        given pixels, as compressed tiles (the others are sparse: no bytes). `in_tile_order`:
        the values are given for rows[self.order], cols[self.order]."""
        if not len(self.occupied):
            return [Level(self.width, self.height, self.tile, np.zeros(self.n_tiles, np.int64),
                          []) for _ in values]
        grouped = np.ascontiguousarray(values if in_tile_order else values[:, self.order])
        bits = grouped.view(f"u{grouped.itemsize}")  # compared as bits: 0.0 and -0.0 differ
        starts = self.starts[:-1]
        changed = np.ones((len(values), len(starts)), dtype=bool)
        changed[1:] = np.logical_or.reduceat(bits[1:] != bits[:-1], starts, axis=1)
        low = np.minimum.reduceat(bits, starts, axis=1)
        constant = low == np.maximum.reduceat(bits, starts, axis=1)
        kind, bounds = (values.dtype.str, float(nodata)), self.starts.tolist()
        levels, tiles = [], [b""] * len(starts)
        for step, (new, flat, first) in enumerate(zip(changed.tolist(), constant.tolist(),
                                                      low.tolist(), strict=True)):
            chunks = []
            for i, tile_id in enumerate(self.occupied.tolist()):
                if new[i]:
                    key = (kind, tile_id, first[i])
                    known = self.constant.get(key) if flat[i] else None
                    if known is None:
                        known = self._encode(grouped[step], bounds[i], bounds[i + 1], nodata)
                        if flat[i]:
                            self.constant[key] = known
                    tiles[i] = known
                chunks.append(tiles[i])
            sizes = np.zeros(self.n_tiles, dtype=np.int64)
            sizes[self.occupied] = [len(tile) for tile in tiles]
            levels.append(Level(self.width, self.height, self.tile, sizes, chunks))
        return levels

    def _encode(self, values: np.ndarray, start: int, end: int, nodata: float) -> bytes:
        filled = np.full(self.tile * self.tile, nodata, dtype=values.dtype)
        filled[self.inside[start:end]] = values[start:end]
        return deflate(filled)


def overview_factors(width: int, height: int, tile: int) -> list[int]:
    """Factors 2, 4, ... down to the first overview that fits in one tile."""
    factors, factor = [], 1
    while max(width, height) > tile * factor:
        factor *= 2
        factors.append(factor)
    return factors


def _overview(array: np.ndarray, factor: int, nodata: float) -> np.ndarray:
    height, width = array.shape
    padded = np.full((-(-height // factor) * factor, -(-width // factor) * factor), nodata,
                     dtype=array.dtype)
    padded[:height, :width] = array
    return padded[factor - 1::factor, factor - 1::factor]


def write_geotiff(path: str | Path, array: np.ndarray, transform: Affine, nodata: float, *,
                  tile: int = TILE, overviews: bool = False, atomic: bool = True) -> Path:
    """A 2-D array as a tiled, deflated GeoTIFF; with `overviews`, a Cloud-Optimized GeoTIFF.

    `atomic=False` writes in place, for files inside a directory that is itself moved into
    place when complete (a run's staging directory)."""
    height, width = array.shape
    factors = overview_factors(width, height, tile) if overviews else []
    levels = []
    for level in [array] + [_overview(array, f, nodata) for f in factors]:
        tiles = encode_tiles(level, nodata, tile)
        levels.append(Level(level.shape[1], level.shape[0], tile, [len(t) for t in tiles], tiles))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) if atomic else nullcontext(path) as target:
        write_tiled_file(target, levels, array.dtype, transform, nodata)
    return path


def write_cog(path: str | Path, array: np.ndarray, transform: Affine, nodata: float) -> Path:
    """One band as a Cloud-Optimized GeoTIFF: 256 x 256 tiles, deflate, overviews."""
    return write_geotiff(path, array, transform, nodata, overviews=True)
