"""Tiled GeoTIFF layers read per block (gcbm-spec §2): windows, nodata, attribute tables,
the global tile/block/cell indexing and pixel areas."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.windows import Window

from flintcloud.errors import RasterError
from flintcloud.gcbm.project.config import Grid, Layer, Tile

EARTH_RADIUS_M = 6378137.0
PI = 3.141592653590  # the value FLINT's raster provider uses


@dataclass(frozen=True)
class BlockWindow:
    """One block of a tile: its cells' place in the tile and on the globe."""

    tile: Tile
    block_idx: int  # within the tile, row-major from the north-west
    row: int  # first cell row within the tile
    col: int
    n_rows: int
    n_cols: int

    @property
    def north(self) -> float:
        return self.tile.y - self.row * self._cell[0]

    @property
    def west(self) -> float:
        return self.tile.x + self.col * self._cell[1]

    _cell: tuple[float, float] = (0.0, 0.0)


def block_windows(tile: Tile, grid: Grid) -> list[BlockWindow]:
    """Every block of a tile, in block-index order."""
    rows, cols = grid.cells_per_block
    block_rows, block_cols = grid.blocks_per_tile
    return [BlockWindow(tile, r * block_cols + c, r * rows, c * cols, rows, cols,
                        (grid.cell_lat, grid.cell_lon))
            for r in range(block_rows) for c in range(block_cols)]


def pixel_area_ha(grid: Grid, north_lat: np.ndarray) -> np.ndarray:
    """Cell area in hectares from the latitude of the cell's top edge (gcbm-spec §2.6)."""
    side = grid.cell_lat * 2 * PI * EARTH_RADIUS_M / 360.0
    return side * side * np.cos(np.asarray(north_lat) * PI / 180.0) * 1e-4


class LayerReader:
    """Reads windows of one layer's tile GeoTIFFs, checking each file's grid once."""

    def __init__(self, layer: Layer) -> None:
        self.layer = layer
        self._dataset = None

    def _open(self, tile: Tile):
        if self._dataset is None:
            try:
                self._dataset = rasterio.open(self.layer.path)
            except rasterio.errors.RasterioIOError as err:
                raise RasterError(f"cannot open raster: {err}", source=self.layer.path.name) from err
            self._check_grid(self._dataset)
        return self._dataset

    def _check_grid(self, dataset) -> None:
        t = dataset.transform
        grid = self.layer.grid
        if not (math.isclose(t.a, grid.cell_lon, rel_tol=1e-9) and
                math.isclose(-t.e, grid.cell_lat, rel_tol=1e-9)):
            raise RasterError(f"pixel size ({t.a}, {-t.e}) differs from the grid's cell size "
                              f"({grid.cell_lon}, {grid.cell_lat})", source=self.layer.path.name,
                              field="cellLatSize/cellLonSize",
                              hint=f"see {self.layer.metadata_source}")
        col = (t.c + 180.0) / grid.cell_lon
        row = (90.0 - t.f) / grid.cell_lat
        if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
            raise RasterError(f"origin ({t.c}, {t.f}) is not on the global cell grid",
                              source=self.layer.path.name, field="geotransform")

    def read(self, window: BlockWindow) -> np.ndarray:
        """The block's cells (n_rows, n_cols); cells outside the file read as nodata."""
        dataset = self._open(window.tile)
        t = dataset.transform
        col = round((window.west - t.c) / t.a)
        row = round((t.f - window.north) / -t.e)
        try:
            return self._read_window(dataset, row, col, window.n_rows, window.n_cols)
        except rasterio.errors.RasterioIOError as err:  # a damaged or cut-off file
            raise RasterError(f"cannot read block {window.block_idx} of tile {window.tile.index}: "
                              f"{err.__cause__ or err}", source=self.layer.path.name) from err

    def _read_window(self, dataset: rasterio.io.DatasetReader, row: int, col: int, n_rows: int,
                     n_cols: int) -> np.ndarray:
        """The window's cells, nodata outside the file. Only the part inside the file is read:
        rasterio's `boundless` reads go through a VRT made per call (~4 ms a read)."""
        top, left = max(row, 0), max(col, 0)
        bottom, right = min(row + n_rows, dataset.height), min(col + n_cols, dataset.width)
        if (top, left, bottom, right) == (row, col, row + n_rows, col + n_cols):
            return dataset.read(1, window=Window(col, row, n_cols, n_rows))
        out = np.full((n_rows, n_cols), np.asarray(self.layer.nodata).astype(dataset.dtypes[0]))
        if bottom > top and right > left:
            out[top - row:bottom - row, left - col:right - col] = dataset.read(
                1, window=Window(left, top, right - left, bottom - top))
        return out

    def close(self) -> None:
        if self._dataset is not None:
            self._dataset.close()
            self._dataset = None


def is_null(layer: Layer, values: np.ndarray) -> np.ndarray:
    """Cells whose value is nodata, or missing from the layer's attribute table (§2.3)."""
    nodata = np.asarray(layer.nodata).astype(values.dtype) if values.dtype.kind != "f" \
        else np.float32(layer.nodata) if values.dtype == np.float32 else layer.nodata
    null = values == nodata
    if values.dtype.kind == "f":
        null |= np.isnan(values)
    if layer.attributes is not None:
        keys = np.array([int(k) for k in layer.attributes], dtype=np.int64)
        null |= ~np.isin(values.astype(np.int64), keys)
    return null


def attribute_of(layer: Layer, value: float) -> object:
    """The attribute-table interpretation of one pixel value (of a layer with attributes)."""
    key = str(int(value))
    if layer.attributes is None:
        raise RasterError(f"layer {layer.name!r} has no attribute table", source=layer.path.name)
    return layer.attributes[key]
