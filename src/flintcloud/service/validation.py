"""Content checks for uploads: GeoTIFFs open and share one grid; the SQLite file is a GCBM input
database. The file's bytes decide, never its name or Content-Type."""

from __future__ import annotations

import math
import sqlite3
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
SQLITE_SIGNATURE = b"SQLite format 3\x00"
_GDAL_TYPES = {"uint8": "Byte", "int8": "Int8", "int16": "Int16", "uint16": "UInt16",
               "int32": "Int32", "uint32": "UInt32", "float32": "Float32", "float64": "Float64"}


@dataclass(frozen=True)
class RasterInfo:
    """What the service needs to know about a GeoTIFF (degrees for geographic CRSs)."""

    crs: str
    is_geographic: bool
    width: int
    height: int
    origin: tuple[float, float]  # x of the left edge, y of the top edge
    resolution: tuple[float, float]  # pixel width, pixel height (both positive)
    dtype: str
    nodata: float | None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north)."""
        west, north = self.origin
        return (west, north - self.height * self.resolution[1],
                west + self.width * self.resolution[0], north)

    @property
    def gdal_type(self) -> str:
        return _GDAL_TYPES.get(self.dtype, self.dtype)

    def to_dict(self) -> dict:
        return {"crs": self.crs, "width": self.width, "height": self.height,
                "bounds": list(self.bounds), "resolution": list(self.resolution),
                "data_type": self.gdal_type, "nodata": self.nodata}


def _starts_with(path: Path, signatures: tuple[bytes, ...]) -> bool:
    with path.open("rb") as handle:
        head = handle.read(max(len(s) for s in signatures))
    return any(head.startswith(signature) for signature in signatures)


def inspect_geotiff(path: Path) -> RasterInfo | str:
    """The raster's grid, or a message saying why it is not a usable GeoTIFF."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    if not _starts_with(path, TIFF_SIGNATURES):
        return "not a GeoTIFF: the file does not start with a TIFF header"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as raster:
                if raster.driver != "GTiff":
                    return f"not a GeoTIFF (GDAL reads it as {raster.driver})"
                if raster.crs is None:
                    return "has no coordinate reference system"
                transform = raster.transform
                if transform.b != 0 or transform.d != 0:
                    return "is rotated; only north-up rasters are supported"
                if transform.e >= 0:
                    return "is not north-up (its pixel height must be negative)"
                return RasterInfo(
                    crs=raster.crs.to_string(), is_geographic=bool(raster.crs.is_geographic),
                    width=raster.width, height=raster.height,
                    origin=(transform.c, transform.f), resolution=(transform.a, -transform.e),
                    dtype=raster.dtypes[0], nodata=raster.nodata)
    except RasterioIOError as err:
        return f"not a readable GeoTIFF: {err}"


def grid_problems(rasters: dict[str, RasterInfo]) -> dict[str, str]:
    """Each raster that does not share the first one's CRS, resolution and pixel alignment."""
    if not rasters:
        return {}
    reference_name, reference = next(iter(rasters.items()))
    problems = {}
    for name, info in rasters.items():
        if info.crs != reference.crs:
            problems[name] = f"CRS {info.crs} differs from {reference_name}'s {reference.crs}"
        elif not all(math.isclose(a, b, rel_tol=1e-9)
                     for a, b in zip(info.resolution, reference.resolution, strict=True)):
            problems[name] = (f"resolution {info.resolution} differs from {reference_name}'s "
                              f"{reference.resolution}")
        else:
            offsets = [(info.origin[i] - reference.origin[i]) / reference.resolution[i]
                       for i in (0, 1)]
            if any(abs(offset - round(offset)) > 1e-6 for offset in offsets):
                problems[name] = f"pixels are not aligned with {reference_name}'s"
    return problems


def raster_values(path: Path) -> np.ndarray:
    """The distinct valid (not nodata) values of band 1."""
    import rasterio

    with rasterio.open(path) as raster:
        band = raster.read(1, masked=True)
    return np.unique(band.compressed())


def sqlite_problem(path: Path, required_tables: tuple[str, ...]) -> str | None:
    """Why `path` is not a usable GCBM input database, or None."""
    if not _starts_with(path, (SQLITE_SIGNATURE,)):
        return "not an SQLite database: the file does not start with the SQLite header"
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except sqlite3.DatabaseError as err:
        return f"not a readable SQLite database: {err}"
    missing = [table for table in required_tables if table not in tables]
    if missing:
        return f"is missing tables GCBM needs: {', '.join(missing)}"
    return None
