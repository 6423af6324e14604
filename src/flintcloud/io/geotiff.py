"""GeoTIFF writing: GCBM's per-block indicator tiles and Cloud-Optimized mosaics.

Both are written under a temporary name and renamed into place, so a file that exists is whole.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS

WGS84 = CRS.from_epsg(4326)


def _atomic_write(path: Path, array: np.ndarray, profile: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    try:
        # no .aux.xml side files: everything a reader needs is inside the GeoTIFF
        with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(temporary, "w", **profile) as dataset:
            dataset.write(array, 1)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_geotiff(path: str | Path, array: np.ndarray, transform: Affine, nodata: float, *,
                  crs: CRS = WGS84) -> Path:
    """One band as GCBM writes it: tiled 256x256, deflate, band interleaved."""
    height, width = array.shape
    profile = {"driver": "GTiff", "dtype": array.dtype.name, "width": width, "height": height,
               "count": 1, "crs": crs, "transform": transform, "nodata": nodata, "tiled": True,
               "blockxsize": 256, "blockysize": 256, "compress": "deflate", "interleave": "band"}
    return _atomic_write(Path(path), array, profile)


def write_cog(path: str | Path, array: np.ndarray, transform: Affine, nodata: float, *,
              crs: CRS = WGS84) -> Path:
    """One band as a Cloud-Optimized GeoTIFF: internal tiles, overviews, deflate + predictor."""
    height, width = array.shape
    predictor = 3 if np.issubdtype(array.dtype, np.floating) else 2
    profile = {"driver": "COG", "dtype": array.dtype.name, "width": width, "height": height,
               "count": 1, "crs": crs, "transform": transform, "nodata": nodata,
               "blocksize": 256, "compress": "DEFLATE", "predictor": predictor,
               "overview_resampling": "nearest"}
    return _atomic_write(Path(path), array, profile)
