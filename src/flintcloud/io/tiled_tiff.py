"""Tiled, deflated, one-band GeoTIFFs laid out as Cloud-Optimized GeoTIFFs, from tiles that are
already compressed.

A GCBM run writes thousands of small indicator files whose tiles are mostly nodata, then mosaics
whose full-resolution tiles are those files' tiles, byte for byte. A tile that is all nodata is
not stored at all (offset and byte count 0, as GDAL's SPARSE_OK=TRUE writes it; readers fill it
with nodata): about half of a sparse landscape's bytes. GDAL and tifffile compress
pixels themselves and cannot lay out a COG from tiles compressed elsewhere; here a file is the
TIFF 6 (or BigTIFF) layout written directly: header, GDAL's structural-metadata block, every
IFD, then tile data from the smallest overview to full resolution (GDAL's COG layout).
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from affine import Affine
from zlib_ng import zlib_ng

# zlib-ng's level 1: a run writes tens of thousands of tiles, and it is 3x faster than zlib's
# (files 1.3x larger). It is deterministic, so a rerun writes the same bytes; ISA-L's deflate,
# as fast, is not (its output depends on memory it does not initialise).
DEFLATE_LEVEL = 1
EMPTY_TILE = b""  # an all-nodata tile: not stored (a sparse tile)

# GeoKeyDirectory for EPSG:4326: version 1.1.0, 3 keys: model type geographic (1024 = 2),
# raster type pixel-is-area (1025 = 1), geographic CRS 4326 (2048).
WGS84_GEOKEYS = (1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326)

# GDAL's "ghost" block after the header: it tells GDAL (and COG validators) that every IFD
# precedes the tile data and tiles are in row-major order.
_GHOST_BODY = b"LAYOUT=IFDS_BEFORE_DATA\nBLOCK_ORDER=ROW_MAJOR\nKNOWN_INCOMPATIBLE_EDITION=NO\n"
_GHOST = b"GDAL_STRUCTURAL_METADATA_SIZE=%06d bytes\n" % len(_GHOST_BODY) + _GHOST_BODY

# TIFF field types: code and value size in bytes
_SHORT, _LONG, _DOUBLE, _ASCII, _LONG8 = (3, 2), (4, 4), (12, 8), (2, 1), (16, 8)
_STRUCT = {3: "H", 4: "I", 12: "d", 16: "Q"}
_Tag = tuple[tuple[int, int], bytes | list[int] | list[float]]  # (field type, values)
_SAMPLE_FORMAT = {"u": 1, "i": 2, "f": 3}
_DEFLATE = 8
_CLASSIC_LIMIT = 2**32 - 1
_MAX_WRITEV = 1024  # buffers per writev call (IOV_MAX on Linux)


def deflate(data) -> bytes:
    return zlib_ng.compress(data, DEFLATE_LEVEL)


@dataclass(frozen=True)
class Level:
    """One resolution of the image: its size, its tile size, its tiles' sizes (row-major) and
    their bytes, in order, in chunks of one or more tiles."""

    width: int
    height: int
    tile: int
    tile_sizes: Sequence[int] | np.ndarray
    tiles: Iterable[bytes]


def tile_grid(width: int, height: int, tile: int) -> tuple[int, int]:
    """(tiles across, tiles down)."""
    return -(-width // tile), -(-height // tile)


def encode_tiles(array: np.ndarray, nodata: float, tile: int) -> list[bytes]:
    """Each tile of a 2-D array, row-major, deflated (all-nodata tiles: `EMPTY_TILE`); edge
    tiles padded with nodata."""
    height, width = array.shape
    across, down = tile_grid(width, height, tile)
    padded = np.full((down * tile, across * tile), nodata, dtype=array.dtype)
    padded[:height, :width] = array
    tiles = padded.reshape(down, tile, across, tile).swapaxes(1, 2).reshape(down * across, -1)
    occupied = np.any(tiles != array.dtype.type(nodata), axis=1)
    return [deflate(np.ascontiguousarray(t)) if o else EMPTY_TILE
            for t, o in zip(tiles, occupied, strict=True)]


@dataclass(frozen=True)
class Written:
    """A written file: its size, sha256, and where its full-resolution tiles are."""

    size: int
    sha256: str
    tile_offsets: np.ndarray
    tile_sizes: np.ndarray


def write_tiled(file, levels: Sequence[Level], dtype, transform: Affine,
                nodata: float) -> Written:
    """Write a GeoTIFF in EPSG:4326 to an open binary file: levels[0] at full resolution, the
    others its overviews, each half the size of the one before. The file is hashed as it is
    written, so that a run's manifest need not read it again."""
    head, offsets = _head(levels, dtype, transform, nodata)
    digest, size = hashlib.sha256(head), len(head)
    file.write(head)
    for level in reversed(levels):
        for chunk in level.tiles:
            digest.update(chunk)
            size += file.write(chunk)
    return Written(size, digest.hexdigest(), offsets, np.asarray(levels[0].tile_sizes))


def write_tiled_file(path: str | Path, levels: Sequence[Level], dtype, transform: Affine,
                     nodata: float) -> Written:
    """`write_tiled` to a new file, in one system call when it has few tiles (a block file)."""
    if sum(len(level.tile_sizes) for level in levels) >= _MAX_WRITEV:
        with open(path, "wb") as file:
            return write_tiled(file, levels, dtype, transform, nodata)
    head, offsets = _head(levels, dtype, transform, nodata)
    chunks = [head] + [t for level in reversed(levels) for t in level.tiles]
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    size = sum(map(len, chunks))
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        written = os.writev(descriptor, chunks)
        if written < size:  # short writes are allowed, if rare
            rest = memoryview(b"".join(chunks))[written:]
            while rest:
                rest = rest[os.write(descriptor, rest):]
    finally:
        os.close(descriptor)
    return Written(size, digest.hexdigest(), offsets, np.asarray(levels[0].tile_sizes))


def _head(levels: Sequence[Level], dtype, transform: Affine,
          nodata: float) -> tuple[bytearray, np.ndarray]:
    """Header, structural metadata and IFDs, with every tile's offset and size filled in."""
    if transform.b or transform.d:
        raise ValueError("rotated geotransforms are not supported")
    sizes = [np.asarray(level.tile_sizes, dtype=np.int64) for level in levels]
    data_bytes = sum(int(s.sum()) for s in sizes)
    shapes = tuple((level.width, level.height, level.tile, len(s))
                   for level, s in zip(levels, sizes, strict=True))
    layout = _layout(shapes, np.dtype(dtype).str, float(nodata), tuple(transform)[:6],
                     data_bytes + 64 * (len(shapes) + sum(len(s) for s in sizes)) > _CLASSIC_LIMIT)
    head = bytearray(layout.head)
    word = np.dtype("<u8" if layout.bigtiff else "<u4")
    position, full_resolution = layout.data_start, np.zeros(0, dtype=np.int64)
    for k in reversed(range(len(levels))):  # smallest overview first, as GDAL lays out COGs
        offsets = np.where(sizes[k] > 0, position + np.cumsum(sizes[k]) - sizes[k], 0)
        position += int(sizes[k].sum())
        np.frombuffer(head, word, len(offsets), layout.offsets_at[k])[:] = offsets
        np.frombuffer(head, word, len(offsets), layout.sizes_at[k])[:] = sizes[k]
        full_resolution = offsets
    return head, full_resolution


@dataclass(frozen=True)
class _Layout:
    head: bytes  # with zeros where tile offsets and sizes go
    bigtiff: bool
    data_start: int
    offsets_at: list[int]  # per level, where its tile offsets are in `head`
    sizes_at: list[int]


@lru_cache(maxsize=64)
def _layout(shapes: tuple[tuple[int, int, int, int], ...], dtype_str: str, nodata: float,
            transform: tuple[float, ...], bigtiff: bool) -> _Layout:
    """The head of every file with these levels; a run's block files share a few."""
    dtype = np.dtype(dtype_str)
    ifds = [_ifd_tags(width, height, n_tiles, k > 0, dtype, Affine(*transform), nodata, tile,
                      bigtiff) for k, (width, height, tile, n_tiles) in enumerate(shapes)]
    header = 16 if bigtiff else 8
    sizes = [_ifd_size(tags, bigtiff) for tags in ifds]
    chunks = [struct.pack("<2sHHHQ", b"II", 43, 8, 0, header + len(_GHOST)) if bigtiff
              else struct.pack("<2sHI", b"II", 42, header + len(_GHOST)), _GHOST]
    ifd_offset = header + len(_GHOST)
    offsets_at, sizes_at = [], []
    for k, tags in enumerate(ifds):
        next_offset = ifd_offset + sizes[k] if k + 1 < len(ifds) else 0
        ifd, places = _ifd_bytes(tags, ifd_offset, next_offset, bigtiff)
        offsets_at.append(ifd_offset + places[324])
        sizes_at.append(ifd_offset + places[325])
        chunks.append(ifd)
        ifd_offset += sizes[k]
    return _Layout(b"".join(chunks), bigtiff, ifd_offset, offsets_at, sizes_at)


def nodata_text(dtype: np.dtype, nodata: float) -> str:
    """GDAL_NODATA as GDAL reads it back to the same value."""
    value = dtype.type(nodata)
    return repr(float(value)) if dtype.kind == "f" else str(int(value))


def _ifd_tags(width: int, height: int, n_tiles: int, overview: bool, dtype: np.dtype,
              transform: Affine, nodata: float, tile: int,
              bigtiff: bool) -> dict[int, _Tag]:
    count_type = _LONG8 if bigtiff else _LONG
    tags: dict[int, _Tag] = {256: (_LONG, [width]), 257: (_LONG, [height]),
            258: (_SHORT, [dtype.itemsize * 8]), 259: (_SHORT, [_DEFLATE]),
            262: (_SHORT, [1]), 277: (_SHORT, [1]), 284: (_SHORT, [1]),
            322: (_SHORT, [tile]), 323: (_SHORT, [tile]),
            324: (count_type, [0] * n_tiles), 325: (count_type, [0] * n_tiles),
            339: (_SHORT, [_SAMPLE_FORMAT[dtype.kind]]),
            42113: (_ASCII, nodata_text(dtype, nodata).encode() + b"\0")}
    if overview:
        tags[254] = (_LONG, [1])  # NewSubfileType: reduced-resolution image
    else:  # georeferencing lives on the full-resolution image
        tags[33550] = (_DOUBLE, [transform.a, -transform.e, 0.0])
        tags[33922] = (_DOUBLE, [0.0, 0.0, 0.0, transform.c, transform.f, 0.0])
        tags[34735] = (_SHORT, list(WGS84_GEOKEYS))
    return tags


def _value_bytes(kind: tuple[int, int], values: bytes | list[int] | list[float]) -> bytes:
    if isinstance(values, bytes):
        return values
    return struct.pack(f"<{len(values)}{_STRUCT[kind[0]]}", *values)


def _ifd_size(tags: dict[int, _Tag], bigtiff: bool) -> int:
    entry, inline = (20, 8) if bigtiff else (12, 4)
    size = (8 + 8 if bigtiff else 2 + 4) + entry * len(tags)
    for kind, values in tags.values():
        length = len(values) * kind[1]
        if length > inline:
            size += length + length % 2  # values start on a word boundary
    return size


def _ifd_bytes(tags: dict[int, _Tag], offset: int, next_offset: int,
               bigtiff: bool) -> tuple[bytes, dict[int, int]]:
    """The IFD and where (from its start) each tag's values are."""
    entry_format, inline = ("<HHQ", 8) if bigtiff else ("<HHI", 4)
    head = struct.pack("<Q", len(tags)) if bigtiff else struct.pack("<H", len(tags))
    tail = struct.pack("<Q" if bigtiff else "<I", next_offset)
    values_at = offset + len(head) + (20 if bigtiff else 12) * len(tags) + len(tail)
    entries: list[bytes] = []
    values: list[bytes] = []
    places: dict[int, int] = {}
    entry_size = 20 if bigtiff else 12
    for tag in sorted(tags):
        kind, value = tags[tag]
        raw = _value_bytes(kind, value)
        count = len(raw) // kind[1]
        if len(raw) <= inline:
            places[tag] = len(head) + entry_size * len(entries) + entry_size - inline
            entries.append(struct.pack(entry_format, tag, kind[0], count) +
                           raw.ljust(inline, b"\0"))
        else:
            places[tag] = values_at - offset
            entries.append(struct.pack(entry_format, tag, kind[0], count) +
                           struct.pack("<Q" if bigtiff else "<I", values_at))
            raw += b"\0" * (len(raw) % 2)
            values.append(raw)
            values_at += len(raw)
    return head + b"".join(entries) + tail + b"".join(values), places
