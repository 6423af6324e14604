"""Rasters on GCBM's global grid (gcbm-spec §2.1): 1° tiles and 0.1° blocks anchored at
(-180, 90), cells of the first classifier's pixel size. Reads any raster tile by tile on that
grid (windowed when already aligned, reprojected otherwise) and writes GCBM's tiled layers.
"""

from __future__ import annotations

import math
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window

from flintcloud.errors import RasterError
from flintcloud.gcbm.project.config import Grid, Tile

WGS84 = CRS.from_epsg(4326)
TILE_DEGREES = 1.0
BLOCK_DEGREES = 0.1
_TOLERANCE = 1e-6  # of a cell: geotransforms written as decimal text are not exact
GDAL_TYPES = {"uint8": "Byte", "int16": "Int16", "uint16": "UInt16", "int32": "Int32",
              "uint32": "UInt32", "float32": "Float32", "float64": "Float64"}
_WIDER = {"int8": "int16"}  # types GCBM cannot read, and the smallest one it can that holds them
_TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF


@dataclass(frozen=True)
class RasterInfo:
    """A raster's header: what alignment and metadata depend on."""

    path: Path
    driver: str
    crs: CRS | None
    transform: Affine
    width: int
    height: int
    dtype: str  # NumPy name of band 1's type
    nodata: float | None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def is_integer(self) -> bool:
        return np.dtype(self.dtype).kind in "iu"


def inspect_raster(path: Path) -> RasterInfo:
    """Read a GeoTIFF's header, or raise RasterError naming the file. The bytes decide, not the
    name: a file that does not start like a TIFF is refused before GDAL sees it, and only
    GDAL's GTiff driver opens it (another driver could follow a VRT to any file)."""
    try:
        with open(path, "rb") as file:
            is_tiff = file.read(4) in _TIFF_SIGNATURES
    except OSError as err:
        raise RasterError(f"cannot be read: {err}", source=path.name) from err
    if not is_tiff:
        raise RasterError("not a GeoTIFF: the file does not start with a TIFF header",
                          source=path.name, hint="upload a GeoTIFF")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            with rasterio.open(path, driver="GTiff") as dataset:
                return RasterInfo(path, dataset.driver, dataset.crs, dataset.transform,
                                  dataset.width, dataset.height, dataset.dtypes[0],
                                  dataset.nodata)
    except rasterio.errors.RasterioError as err:
        raise RasterError(f"cannot be read as a raster: {err}", source=path.name,
                          hint="upload a GeoTIFF") from err


def output_dtype(info: RasterInfo) -> str | None:
    """The pixel type the GCBM layer gets, or None if GCBM has none that holds these values."""
    dtype = _WIDER.get(info.dtype, info.dtype)
    return dtype if dtype in GDAL_TYPES else None


def default_nodata(dtype: str) -> float:
    """Nodata for a raster that declares none: the largest value of its type."""
    kind = np.dtype(dtype)
    return float(np.iinfo(kind).max) if kind.kind in "iu" else float(np.finfo(kind).max)


@dataclass(frozen=True)
class TargetGrid:
    """GCBM's global grid at one cell size (degrees, square cells)."""

    cell: float

    @property
    def cells_per_tile(self) -> int:
        return round(TILE_DEGREES / self.cell)

    @property
    def cells_per_block(self) -> int:
        return round(BLOCK_DEGREES / self.cell)

    def as_grid(self) -> Grid:
        return Grid(TILE_DEGREES, TILE_DEGREES, BLOCK_DEGREES, BLOCK_DEGREES, self.cell, self.cell)

    def tile_transform(self, tile: Tile) -> Affine:
        return Affine(self.cell, 0.0, float(tile.x), 0.0, -self.cell, float(tile.y))

    def layer_metadata(self, dtype: str, nodata: float) -> dict:
        """The keys of a GCBM layer JSON (gcbm-spec §2.2), attributes aside."""
        return {"layer_type": "GridLayer", "layer_data": GDAL_TYPES[dtype],
                "nodata": _json_number(nodata, dtype),
                "tileLatSize": TILE_DEGREES, "tileLonSize": TILE_DEGREES,
                "blockLatSize": BLOCK_DEGREES, "blockLonSize": BLOCK_DEGREES,
                "cellLatSize": self.cell, "cellLonSize": self.cell}


def _json_number(value: float, dtype: str) -> int | float:
    """A pixel value as JSON: integers as such, Float32 by its shortest decimal (3.4e+38, not
    3.3999999521443642e+38), as GCBM's own layer JSONs write it."""
    kind = np.dtype(dtype)
    if kind.kind in "iu":
        return int(value)
    return float(str(np.float32(value))) if kind == np.float32 else float(value)


def tile_at(col: int, row: int) -> Tile:
    """The tile in global column `col` (from -180) and row `row` (from +90)."""
    return Tile(col - 180, 90 - row, row * round(360 / TILE_DEGREES) + col)


def _is_whole(value: float) -> bool:
    return abs(value - round(value)) <= _TOLERANCE


def reference_problem(info: RasterInfo, *, must_be_aligned: bool) -> str | None:
    """Why the first classifier cannot define the grid, or None if it can."""
    if info.crs is None or info.crs != WGS84:
        return (f"the first classifier defines the grid and must be in EPSG:4326 (WGS 84), "
                f"not {info.crs or 'no CRS'}")
    t = info.transform
    if t.b or t.d:
        return "the first classifier defines the grid and must not be rotated"
    if not (t.a > 0 and math.isclose(t.a, -t.e, rel_tol=1e-9)):
        return f"pixels must be square and north-up, not {t.a} x {t.e} degrees"
    per_block = BLOCK_DEGREES / t.a
    if per_block < 1 or not _is_whole(per_block):
        return f"pixel size {t.a}° does not divide GCBM's {BLOCK_DEGREES}° block"
    col, row = (t.c + 180.0) / t.a, (90.0 - t.f) / t.a
    if must_be_aligned and not (_is_whole(col) and _is_whole(row)):
        return (f"origin ({t.c}, {t.f}) is not on GCBM's global grid of {t.a}° cells anchored "
                f"at (-180, 90): off by ({_offset(col)}, {_offset(row)}) cells")
    return None


def grid_difference(info: RasterInfo, grid: TargetGrid) -> str | None:
    """How a raster differs from the target grid (CRS, rotation, pixel size, alignment), or
    None if it is on it."""
    if info.crs is None:
        return "has no CRS"
    if info.crs != WGS84:
        return f"CRS {info.crs} differs from EPSG:4326"
    t = info.transform
    if t.b or t.d:
        return "is rotated"
    if not (math.isclose(t.a, grid.cell, rel_tol=1e-9) and
            math.isclose(-t.e, grid.cell, rel_tol=1e-9)):
        return f"pixel size {t.a} x {-t.e} differs from the grid's {grid.cell}"
    col, row = (t.c + 180.0) / grid.cell, (90.0 - t.f) / grid.cell
    if not (_is_whole(col) and _is_whole(row)):
        return (f"grid is shifted by ({_offset(col)}, {_offset(row)}) cells from the reference "
                f"grid (origin {t.c}, {t.f})")
    return None


def _offset(value: float) -> str:
    return f"{value - round(value):+.3f}"


def tiles_covering(info: RasterInfo) -> list[Tile]:
    """The 1° tiles a raster's extent overlaps, in index order."""
    t = info.transform
    west, north = t.c, t.f
    east, south = west + t.a * info.width, north + t.e * info.height
    if info.crs is not None and info.crs != WGS84:
        west, south, east, north = transform_bounds(info.crs, WGS84, west, south, east, north)
    eps = 1e-9  # a raster ending exactly on a tile edge does not overlap the next tile
    cols = range(math.floor(west + 180 + eps), math.ceil(east + 180 - eps))
    rows = range(math.floor(90 - north + eps), math.ceil(90 - south - eps))
    return [tile_at(col, row) for row in rows for col in cols
            if 0 <= col < 360 and 0 <= row < 180]


class TileReader:
    """One raster's values on the target grid, one tile at a time, as `dtype` with `nodata`
    wherever the raster has no data (outside it, or its own nodata)."""

    def __init__(self, info: RasterInfo, grid: TargetGrid, *, dtype: str, nodata: float,
                 resampling: Resampling, aligned: bool) -> None:
        self.info, self.grid, self.dtype, self.nodata = info, grid, dtype, nodata
        self.resampling, self.aligned = resampling, aligned
        self._dataset: rasterio.DatasetReader | None = None

    def __enter__(self) -> TileReader:
        try:
            self._dataset = rasterio.open(self.info.path)
        except rasterio.errors.RasterioError as err:
            raise RasterError(f"cannot be read as a raster: {err}", source=self.info.name) from err
        return self

    def __exit__(self, *exc: object) -> None:
        if self._dataset is not None:
            self._dataset.close()

    def read(self, tile: Tile) -> np.ndarray:
        try:
            return self._read_aligned(tile) if self.aligned else self._reproject(tile)
        except rasterio.errors.RasterioError as err:
            raise RasterError(f"cannot read tile {tile.index}: {err}", source=self.info.name,
                              hint="the file may be truncated or corrupt") from err

    def empty(self) -> np.ndarray:
        n = self.grid.cells_per_tile
        return np.full((n, n), self.nodata, dtype=self.dtype)

    def _read_aligned(self, tile: Tile) -> np.ndarray:
        out = self.empty()
        n, t = out.shape[0], self.info.transform
        col0 = round((tile.x - t.c) / self.grid.cell)
        row0 = round((t.f - tile.y) / self.grid.cell)
        cols = max(col0, 0), min(col0 + n, self.info.width)
        rows = max(row0, 0), min(row0 + n, self.info.height)
        if cols[0] >= cols[1] or rows[0] >= rows[1]:
            return out
        assert self._dataset is not None, "read inside `with reader:`"
        data = self._dataset.read(1, window=Window(cols[0], rows[0], cols[1] - cols[0],
                                                   rows[1] - rows[0]))
        source_nodata = self.info.nodata
        if source_nodata is not None:
            is_nodata = np.isnan(data) if math.isnan(source_nodata) else data == source_nodata
            data = np.where(is_nodata, self.nodata, data)
        out[rows[0] - row0:rows[1] - row0, cols[0] - col0:cols[1] - col0] = data
        return out

    def _reproject(self, tile: Tile) -> np.ndarray:
        out = self.empty()
        reproject(source=rasterio.band(self._dataset, 1), destination=out,
                  src_nodata=self.info.nodata, dst_transform=self.grid.tile_transform(tile),
                  dst_crs=WGS84, dst_nodata=self.nodata, resampling=self.resampling)
        return out


def write_layer(reader: TileReader, tiles: list[Tile], target: Path) -> None:
    """Write a GCBM layer covering the bounding box of `tiles` (whole tiles; cells the source
    does not cover are nodata), tiled 256×256 and deflated like GCBM's own layers."""
    n = reader.grid.cells_per_tile
    west, north = min(t.x for t in tiles), max(t.y for t in tiles)
    n_cols = round(max(t.x for t in tiles) + TILE_DEGREES - west)
    n_rows = round(north - min(t.y for t in tiles) + TILE_DEGREES)
    transform = Affine(reader.grid.cell, 0.0, float(west), 0.0, -reader.grid.cell, float(north))
    if _copyable(reader, transform, n_cols * n, n_rows * n):
        shutil.copyfile(reader.info.path, target)  # already a GCBM layer: keep its bytes
        return
    profile = {"driver": "GTiff", "width": n_cols * n, "height": n_rows * n, "count": 1,
               "dtype": reader.dtype, "nodata": reader.nodata, "crs": WGS84,
               "transform": transform, "tiled": True, "blockxsize": 256, "blockysize": 256,
               "compress": "deflate"}
    wanted = {(t.x, t.y) for t in tiles}
    with rasterio.open(target, "w", **profile) as out:
        for row in range(n_rows):
            for col in range(n_cols):
                x, y = west + col, north - row
                tile = tile_at(x + 180, 90 - y)
                data = reader.read(tile) if (x, y) in wanted else reader.empty()
                out.write(data, 1, window=Window(col * n, row * n, n, n))


def _copyable(reader: TileReader, transform: Affine, width: int, height: int) -> bool:
    info = reader.info
    return (reader.aligned and info.driver == "GTiff" and info.width == width
            and info.height == height and info.dtype == reader.dtype
            and info.nodata is not None and info.nodata == reader.nodata
            and info.transform.almost_equals(transform, precision=reader.grid.cell * _TOLERANCE))
