"""GeoTIFF writing: GCBM's per-block indicator tiles and Cloud-Optimized mosaics.

Both are written under a temporary name and renamed into place, so a file that exists is whole.
Block tiles are written with tifffile: a run writes hundreds of small files, and tifffile does
it several times faster than a GDAL dataset round trip (the GeoTIFF keys are a few tags).
"""

from __future__ import annotations

import zlib
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path

import numpy as np
import rasterio
import tifffile
from affine import Affine
from rasterio.crs import CRS

from flintcloud.io.files import atomic_path

WGS84 = CRS.from_epsg(4326)


def _write_with_gdal(path: Path, array: np.ndarray, profile: dict) -> Path:
    # no .aux.xml side files: everything a reader needs is inside the GeoTIFF
    with atomic_path(path) as temporary, rasterio.Env(GDAL_PAM_ENABLED="NO"), \
            rasterio.open(temporary, "w", **profile) as dataset:
        dataset.write(array, 1)
    return Path(path)


# GeoKeyDirectory for EPSG:4326: version 1.1.0, 3 keys: model type geographic (1024 = 2),
# raster type pixel-is-area (1025 = 1), geographic CRS 4326 (2048).
_WGS84_GEOKEYS = (1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326)


TILE = 256
# zlib level 1: a run writes thousands of tiles, mostly empty; level 6 (GDAL's default) makes
# files about half the size at twice the cost
ZLIB_LEVEL = 1


@lru_cache(maxsize=64)
def _empty_tile(dtype: str, nodata: float) -> bytes:
    """The compressed bytes of a tile that is all nodata (most tiles of a sparse landscape)."""
    return zlib.compress(np.full((TILE, TILE), nodata, dtype=dtype).tobytes(), ZLIB_LEVEL)


def _encoded_tiles(array: np.ndarray, nodata: float):
    """Each 256x256 tile, row by row, deflated; edge tiles padded with nodata."""
    height, width = array.shape
    for row in range(0, height, TILE):
        for col in range(0, width, TILE):
            tile = array[row:row + TILE, col:col + TILE]
            if not np.any(tile != nodata):
                yield _empty_tile(array.dtype.str, nodata)
                continue
            padded = np.full((TILE, TILE), nodata, dtype=array.dtype)
            padded[:tile.shape[0], :tile.shape[1]] = tile
            yield zlib.compress(padded.tobytes(), ZLIB_LEVEL)


def write_geotiff(path: str | Path, array: np.ndarray, transform: Affine, nodata: float, *,
                  atomic: bool = True) -> Path:
    """One band in EPSG:4326 as GCBM writes it: tiled 256x256, deflate, GDAL nodata tag.

    `atomic=False` writes in place, for files inside a directory that is itself moved into
    place when complete (a run's staging directory)."""
    if transform.b or transform.d:
        raise ValueError("rotated geotransforms are not supported")
    nodata = array.dtype.type(nodata)
    tags = [(33550, "d", 3, (transform.a, -transform.e, 0.0), True),  # ModelPixelScale
            (33922, "d", 6, (0.0, 0.0, 0.0, transform.c, transform.f, 0.0), True),  # tie point
            (34735, "H", len(_WGS84_GEOKEYS), _WGS84_GEOKEYS, True),
            (42113, "s", 0, repr(float(nodata)) if array.dtype.kind == "f" else str(int(nodata)),
             True)]  # GDAL_NODATA
    with atomic_path(path) if atomic else nullcontext(Path(path)) as target:
        tifffile.imwrite(target, _encoded_tiles(array, nodata), shape=array.shape,
                         dtype=array.dtype, tile=(TILE, TILE), compression="zlib",
                         photometric="minisblack", extratags=tags, metadata=None)
    return Path(path)


def write_cog(path: str | Path, array: np.ndarray, transform: Affine, nodata: float, *,
              crs: CRS = WGS84) -> Path:
    """One band as a Cloud-Optimized GeoTIFF: internal tiles, overviews, deflate + predictor."""
    height, width = array.shape
    predictor = 3 if np.issubdtype(array.dtype, np.floating) else 2
    profile = {"driver": "COG", "dtype": array.dtype.name, "width": width, "height": height,
               "count": 1, "crs": crs, "transform": transform, "nodata": nodata,
               "blocksize": 256, "compress": "DEFLATE", "predictor": predictor,
               "overview_resampling": "nearest"}
    return _write_with_gdal(Path(path), array, profile)
