"""One raster band as pictures: read it (decimated, to describe it), cut it into web map tiles
(rio-tiler: XYZ tiles in Web Mercator) coloured with a ramp and encoded as PNG, and read single
pixels back by coordinate.

Rendering is vectorised: a value becomes an index into a 255-colour palette (index 0 is
transparent nodata), so the PNG is a palette image of one byte per pixel. The encoder is a few
lines of zlib (no imaging library needed); browsers and GDAL read it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Colour ramps as (position 0..1, "#rrggbb") stops, interpolated linearly in RGB. Viridis and
# cividis are perceptually uniform and colour-blind safe; "balance" is diverging around its
# middle (blue - white - red), for signed quantities such as NEP and NBP.
RAMPS: dict[str, tuple[tuple[float, str], ...]] = {
    "viridis": ((0.0, "#440154"), (0.125, "#472c7a"), (0.25, "#3b518b"), (0.375, "#2c718e"),
                (0.5, "#21908d"), (0.625, "#27ad81"), (0.75, "#5cc863"), (0.875, "#aadc32"),
                (1.0, "#fde725")),
    "cividis": ((0.0, "#00204d"), (0.25, "#414d6b"), (0.5, "#7c7b78"), (0.75, "#bcaf6f"),
                (1.0, "#ffea46")),
    "magma": ((0.0, "#000004"), (0.25, "#51127c"), (0.5, "#b73779"), (0.75, "#fc8961"),
              (1.0, "#fcfdbf")),
    "balance": ((0.0, "#2166ac"), (0.25, "#67a9cf"), (0.5, "#f7f7f7"), (0.75, "#ef8a62"),
                (1.0, "#b2182b")),
}
DIVERGING = frozenset({"balance"})
N_COLOURS = 255  # palette index 0 is reserved for nodata
TILE_SIZE = 256  # pixels per side of a web map tile


@dataclass(frozen=True)
class Band:
    """One band read for display: values (height, width) float64 with `is_valid` (height, width)
    bool; bounds (west, south, east, north) in the raster's CRS; the source's full size."""

    values: np.ndarray
    is_valid: np.ndarray
    bounds: tuple[float, float, float, float]
    crs: str | None
    nodata: float | None
    source_width: int
    source_height: int

    @property
    def n_valid(self) -> int:
        return int(np.count_nonzero(self.is_valid))

    def valid_bounds(self) -> tuple[float, float, float, float] | None:
        """(west, south, east, north) of the smallest box holding every valid pixel."""
        rows = np.flatnonzero(self.is_valid.any(axis=1))
        cols = np.flatnonzero(self.is_valid.any(axis=0))
        if not rows.size:
            return None
        west, south, east, north = self.bounds
        height, width = self.values.shape
        dx, dy = (east - west) / width, (north - south) / height
        return (west + cols[0] * dx, north - (rows[-1] + 1) * dy,
                west + (cols[-1] + 1) * dx, north - rows[0] * dy)

    def value_range(self) -> tuple[float, float] | None:
        """(min, max) of the valid values, or None when every pixel is nodata."""
        if not self.n_valid:
            return None
        valid = self.values[self.is_valid]
        return float(valid.min()), float(valid.max())


def read_band(path: str | Path, *, max_size: int = 2048) -> Band:
    """Band 1 of a raster, decimated (nearest, from overviews when there are) so that neither
    side exceeds `max_size` pixels. NaN and ±inf count as nodata too."""
    import rasterio
    from rasterio.enums import Resampling

    with rasterio.open(path) as raster:
        scale = max(raster.width, raster.height) / max_size
        shape = (raster.height, raster.width) if scale <= 1 else \
            (max(1, round(raster.height / scale)), max(1, round(raster.width / scale)))
        masked = raster.read(1, masked=True, out_shape=shape, resampling=Resampling.nearest)
        values = np.ma.getdata(masked).astype(np.float64, copy=False)
        is_valid = ~np.ma.getmaskarray(masked) & np.isfinite(values)
        crs = raster.crs.to_string() if raster.crs else None
        return Band(values=values, is_valid=is_valid, bounds=tuple(raster.bounds), crs=crs,
                    nodata=raster.nodata, source_width=raster.width, source_height=raster.height)


def read_pixel(path: str | Path, x: float, y: float) -> tuple[int, int, float | None] | None:
    """(row, col, value) of the pixel of band 1 containing (x, y) in the raster's CRS; value None
    for nodata; None outside the raster."""
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(path) as raster:
        row, col = raster.index(x, y)
        if not (0 <= row < raster.height and 0 <= col < raster.width):
            return None
        masked = raster.read(1, masked=True, window=Window(col, row, 1, 1))
        value = masked[0, 0]
        if value is np.ma.masked or not np.isfinite(float(value)):
            return row, col, None
        return row, col, float(value)


def ramp_colours(name: str, n: int = N_COLOURS) -> np.ndarray:
    """(n, 3) uint8: the ramp sampled at n evenly spaced positions."""
    stops = RAMPS[name]
    positions = np.array([position for position, _ in stops], dtype=np.float64)
    rgb = np.array([[int(colour[i:i + 2], 16) for i in (1, 3, 5)] for _, colour in stops],
                   dtype=np.float64)
    at = np.linspace(0.0, 1.0, n)
    channels = [np.interp(at, positions, rgb[:, channel]) for channel in range(3)]  # 3 channels
    return np.rint(np.stack(channels, axis=1)).astype(np.uint8)


def palette_indices(values: np.ndarray, is_valid: np.ndarray, vmin: float, vmax: float) -> np.ndarray:
    """(h, w) uint8 palette indices: 0 for nodata, 1..255 from vmin to vmax (clipped). A flat
    range (vmin == vmax) maps every valid pixel to the middle colour."""
    if vmax > vmin:
        position = (values - vmin) / (vmax - vmin)
    else:
        position = np.full(values.shape, 0.5, dtype=np.float64)
    position = np.clip(np.nan_to_num(position, nan=0.5), 0.0, 1.0)
    index = 1 + np.rint(position * (N_COLOURS - 1))
    return np.where(is_valid, index, 0).astype(np.uint8)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + tag + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))


def encode_palette_png(indices: np.ndarray, palette: np.ndarray, transparent: int = 0) -> bytes:
    """A PNG (colour type 3) of (h, w) uint8 indices into `palette` (k, 3) uint8, k <= 256;
    palette entry `transparent` is fully transparent."""
    height, width = indices.shape
    if height == 0 or width == 0:
        raise ValueError("a PNG needs at least one pixel")
    scanlines = np.zeros((height, width + 1), dtype=np.uint8)  # filter byte 0 (none) per row
    scanlines[:, 1:] = indices
    alpha = np.full(len(palette), 255, dtype=np.uint8)
    alpha[transparent] = 0
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0))
            + _chunk(b"PLTE", np.ascontiguousarray(palette, dtype=np.uint8).tobytes())
            + _chunk(b"tRNS", alpha.tobytes())
            + _chunk(b"IDAT", zlib.compress(scanlines.tobytes(), 6))
            + _chunk(b"IEND", b""))


def render_png(values: np.ndarray, is_valid: np.ndarray, vmin: float, vmax: float,
               ramp: str) -> bytes:
    """(h, w) values coloured with `ramp` from vmin to vmax as a palette PNG; invalid pixels
    transparent."""
    palette = np.zeros((N_COLOURS + 1, 3), dtype=np.uint8)
    palette[1:] = ramp_colours(ramp)
    return encode_palette_png(palette_indices(values, is_valid, vmin, vmax), palette)


@dataclass(frozen=True)
class TileGrid:
    """Where a raster lies on the Web Mercator tile grid: the zooms at which its pixels are
    about one tile pixel (rio-tiler's min/max zoom) and its bounds in longitude/latitude."""

    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float]  # west, south, east, north in WGS84


def tile_grid(path: str | Path) -> TileGrid:
    from rio_tiler.io import Reader

    with Reader(str(path)) as source:
        bounds = source.get_geographic_bounds(source.tms.rasterio_geographic_crs)
        return TileGrid(int(source.minzoom), int(source.maxzoom),
                        tuple(float(b) for b in bounds))  # type: ignore[arg-type]


def read_tile(path: str | Path, z: int, x: int, y: int,
              size: int = TILE_SIZE) -> tuple[np.ndarray, np.ndarray] | None:
    """(values, is_valid), each (size, size), of band 1 in XYZ tile (z, x, y) of Web Mercator
    (nearest neighbour: a tile pixel shows one raster pixel's value, never a blend); None when
    the tile does not touch the raster. NaN and ±inf count as nodata."""
    from rio_tiler.errors import TileOutsideBounds
    from rio_tiler.io import Reader

    with Reader(str(path)) as source:
        try:
            image = source.tile(x, y, z, tilesize=size, indexes=1, resampling_method="nearest")
        except TileOutsideBounds:
            return None
    values = np.ma.getdata(image.array[0]).astype(np.float64, copy=False)
    is_valid = ~np.ma.getmaskarray(image.array[0]) & np.isfinite(values)
    return values, is_valid


@dataclass(frozen=True)
class RasterGrid:
    """Where a raster's pixels are: CRS, affine transform (6 numbers) and size."""

    crs: str | None
    transform: tuple[float, ...]
    width: int
    height: int


def raster_grid(path: str | Path) -> RasterGrid:
    import rasterio

    with rasterio.open(path) as raster:
        return RasterGrid(raster.crs.to_string() if raster.crs else None,
                          tuple(raster.transform)[:6], raster.width, raster.height)
