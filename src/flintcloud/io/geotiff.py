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
    empty_tile,
    encode_tiles,
    tile_grid,
    write_tiled_file,
)

WGS84 = CRS.from_epsg(4326)
TILE = 256


class SparseTiles:
    """The tiles of a width x height raster that is nodata except at given pixels (rows, cols):
    only tiles holding one of them are filled and compressed, and each distinct tile once (a
    run's rasters repeat tiles: zero fluxes in undisturbed years, pools that do not change);
    `forget` drops the tiles kept."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, width: int, height: int,
                 tile: int) -> None:
        across, down = tile_grid(width, height, tile)
        self.width, self.height, self.tile, self.n_tiles = width, height, tile, across * down
        ids = (rows // tile) * across + cols // tile
        self.occupied, slot = np.unique(ids, return_inverse=True)
        self.place = slot * tile * tile + (rows % tile) * tile + cols % tile  # in occupied tiles
        # each occupied tile's pixels, as a slice of values[self.order]
        self.order = np.argsort(slot, kind="stable")
        self.bounds = np.searchsorted(slot[self.order], np.arange(len(self.occupied) + 1)).tolist()
        self.encoded: dict[tuple, bytes] = {}

    def forget(self) -> None:
        self.encoded = {}

    def level(self, values: np.ndarray, nodata: float) -> Level:
        """The raster holding `values` (one per given pixel) at its pixels, as compressed tiles
        (runs of empty tiles in one chunk)."""
        filled = np.full((len(self.occupied), self.tile * self.tile), nodata, dtype=values.dtype)
        filled.reshape(-1)[self.place] = values
        grouped, kind = values[self.order], (values.dtype.str, float(nodata))
        empty = empty_tile(values.dtype.str, float(nodata), self.tile)
        sizes = np.full(self.n_tiles, len(empty))
        chunks, after = [], 0
        for i, tile_id in enumerate(self.occupied.tolist()):
            key = (kind, tile_id, grouped[self.bounds[i]:self.bounds[i + 1]].tobytes())
            tile = self.encoded.get(key)
            if tile is None:
                tile = self.encoded[key] = deflate(filled[i])
            sizes[tile_id] = len(tile)
            if tile_id > after:
                chunks.append(empty * (tile_id - after))
            chunks.append(tile)
            after = tile_id + 1
        if self.n_tiles > after:
            chunks.append(empty * (self.n_tiles - after))
        return Level(self.width, self.height, self.tile, sizes, chunks)


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
