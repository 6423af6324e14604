"""Scaled landscapes for benchmarks and tests, all made from the GCBM demo project: its data
block copied into more blocks of the same tile (the demo's block 51 into blocks 0..N-1 gives
N x 11,347 pixels), blocks where no two pixels are alike, and a national landscape of 0.01°
cells over many tiles (`tiled_landscape`)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.transform

from flintcloud.errors import InputError


def replicate_blocks(project_zip: Path, n_blocks: int, target: Path, *,
                     data_block: tuple[int, int] = (5, 1), block_size: int = 400) -> Path:
    """Extract `project_zip` into `target` and paste its `data_block` (row, col) into the first
    `n_blocks` blocks of the tile, in every layer; everything else becomes nodata."""
    if not 1 <= n_blocks <= 100:
        raise InputError(f"n_blocks must be within 1..100, got {n_blocks}", field="n_blocks")
    with zipfile.ZipFile(project_zip) as zipped:
        zipped.extractall(target)
    layers = next(Path(target).glob("**/layers/tiled"))
    r0, c0 = data_block[0] * block_size, data_block[1] * block_size
    for path in sorted(layers.glob("*.tif*")):
        with rasterio.open(path, "r+") as dataset:
            if dataset.width < 10 * block_size:  # not a whole tile (e.g. a bounding box)
                continue
            data = dataset.read(1)
            block = data[r0:r0 + block_size, c0:c0 + block_size].copy()
            nodata = dataset.nodata if dataset.nodata is not None else 0
            out = np.full_like(data, nodata)
            for index in range(n_blocks):
                row, col = divmod(index, 10)
                out[row * block_size:(row + 1) * block_size,
                    col * block_size:(col + 1) * block_size] = block
            dataset.write(out, 1)
    return Path(target)


def _layer(layers: Path, name: str) -> Path:
    return next(layers.glob(f"{name}.tif*"))


def _rewrite(path: Path, change) -> None:
    """Rewrite a layer's band 1 through `change(data, nodata) -> data` (same dtype)."""
    with rasterio.open(path, "r+") as dataset:
        data = dataset.read(1)
        dataset.write(change(data, dataset.nodata).astype(data.dtype), 1)


def distinct_demo(project_zip: Path, target: Path) -> Path:
    """The demo with a per-pixel temperature offset (+3e-5 °C per pixel, in reading order) and
    age offset (0-4 years): every simulated pixel its own stand, everything else unchanged."""
    with zipfile.ZipFile(project_zip) as zipped:
        zipped.extractall(target)
    layers = next(Path(target).glob("**/layers/tiled"))

    def offset_temperature(data: np.ndarray, nodata: float) -> np.ndarray:
        is_data = data != np.float32(nodata)
        out = data.astype(np.float64)
        out[is_data] += np.arange(int(is_data.sum())) * 3e-5
        return out

    def offset_age(data: np.ndarray, nodata: float) -> np.ndarray:
        is_data = data != nodata
        out = data.astype(np.int64)
        out[is_data] += np.arange(int(is_data.sum())) % 5
        return out

    _rewrite(_layer(layers, "mean_annual_temperature"), offset_temperature)
    _rewrite(_layer(layers, "initial_age"), offset_age)
    return Path(target)


def distinct_blocks(project_zip: Path, n_blocks: int, target: Path, *, patch: int = 20,
                    block_size: int = 400) -> Path:
    """The demo's tile with its first `n_blocks` blocks full (160,000 cells each): classifiers
    in `patch`-cell patches of the demo's strata, a smooth temperature field with no two cells
    equal (+3e-5 °C per cell in reading order on a gradient), ages varying per cell (1-150),
    and the demo's disturbance events of its data block in every block."""
    if not 1 <= n_blocks <= 100:
        raise InputError(f"n_blocks must be within 1..100, got {n_blocks}", field="n_blocks")
    replicate_blocks(project_zip, n_blocks, target)
    layers = next(Path(target).glob("**/layers/tiled"))
    rows, cols = np.divmod(np.arange(n_blocks), 10)
    in_block = np.zeros((10 * block_size, 10 * block_size), dtype=bool)
    for row, col in zip(rows, cols, strict=True):
        in_block[row * block_size:(row + 1) * block_size,
                 col * block_size:(col + 1) * block_size] = True
    grid_rows, grid_cols = np.indices(in_block.shape)
    with rasterio.open(_layer(layers, "Classifier1")) as one, \
            rasterio.open(_layer(layers, "Classifier2")) as two:
        first, second = one.read(1), two.read(1)
        strata = np.unique(np.stack([first[first != one.nodata], second[first != one.nodata]]),
                           axis=1)
    patch_id = (grid_rows // patch) * (10 * block_size // patch) + grid_cols // patch
    stratum = (patch_id * 7919) % strata.shape[1]  # a fixed scatter of strata over patches

    def classifier(k: int):
        def change(data: np.ndarray, nodata: float) -> np.ndarray:
            return np.where(in_block, strata[k][stratum], nodata)
        return change

    def temperature(data: np.ndarray, nodata: float) -> np.ndarray:
        field = 1.0 + 4.0 * grid_rows / in_block.shape[0] + 2.0 * grid_cols / in_block.shape[1]
        order = np.cumsum(in_block.ravel()).reshape(in_block.shape) - 1
        return np.where(in_block, field + order * 3e-5, nodata)

    def age(data: np.ndarray, nodata: float) -> np.ndarray:
        return np.where(in_block, 1 + (17 * grid_rows + 31 * grid_cols) % 150, nodata)

    _rewrite(_layer(layers, "Classifier1"), classifier(0))
    _rewrite(_layer(layers, "Classifier2"), classifier(1))
    _rewrite(_layer(layers, "mean_annual_temperature"), temperature)
    _rewrite(_layer(layers, "initial_age"), age)
    return Path(target)


def small_blocks(project_zip: Path, n_blocks: int, target: Path, *, side: int = 2,
                 block_size: int = 400) -> Path:
    """`distinct_blocks` cut down to a `side` × `side` patch of cells in each block's corner
    (4 by default): many blocks of a few pixels, no two alike, as projects with coarse cells
    have (0.05° cells make blocks of 2 × 2)."""
    distinct_blocks(project_zip, n_blocks, target, block_size=block_size)
    layers = next(Path(target).glob("**/layers/tiled"))
    rows, cols = np.indices((10 * block_size, 10 * block_size))
    in_patch = (rows % block_size < side) & (cols % block_size < side)

    def keep_patches(data: np.ndarray, nodata: float) -> np.ndarray:
        return np.where(in_patch, data, nodata)

    for name in ("Classifier1", "Classifier2"):  # a cell without classifiers is not simulated
        _rewrite(_layer(layers, name), keep_patches)
    return Path(target)


# A published national project with 0.01° cells: 1,790 blocks with a simulated cell over 35
# tiles, 151,051 simulated pixels (issue 14). `tiled_landscape` scales these with its tiles.
NATIONAL_TILES = 35
NATIONAL_PIXELS = 151_051
NATIONAL_BLOCKS = 1_790


@dataclass(frozen=True)
class TiledLandscape:
    """What `tiled_landscape` made: its folder and the counts its mask got."""

    root: Path
    tiles: int
    blocks: int  # blocks with a simulated cell
    pixels: int  # simulated cells


def _waves(u: np.ndarray, v: np.ndarray, waves: tuple[tuple[float, float, float, float], ...],
           phase: float = 0.0) -> np.ndarray:
    """A smooth deterministic field: a sum of plane waves (amplitude, cycles across u, cycles
    across v, phase), shifted by `phase`."""
    field = np.zeros(np.broadcast(u, v).shape)
    for amplitude, fu, fv, shift in waves:
        field += amplitude * np.sin(2 * np.pi * (fu * u + fv * v) + shift + phase)
    return field


COUNTRY_WAVES = ((0.25, 1.7, 0.6, 0.3), (0.15, 3.1, 2.3, 1.0), (0.08, 5.3, -4.1, 2.0),
                 (0.05, 8.9, 7.7, 0.5))
FOREST_WAVES = ((1.0, 9.7, 1.3, 0.2), (0.7, 13.1, -11.3, 0.5), (0.5, 23.3, 19.7, 1.3),
                (0.3, 41.9, -37.1, 2.1))
EVENT_WAVES = ((1.0, 17.3, 5.9, 0.0), (0.6, 7.1, -21.7, 0.9), (0.4, 31.3, 29.9, 2.3))


def _top(field: np.ndarray, where: np.ndarray, count: int) -> np.ndarray:
    """The `count` cells of `where` where `field` is highest (ties in reading order)."""
    chosen = np.zeros(field.shape, dtype=bool)
    cells = np.flatnonzero(where)
    order = np.argsort(-field.ravel()[cells], kind="stable")
    chosen.ravel()[cells[order[:count]]] = True
    return chosen


def _blocks_touched(mask: np.ndarray, side: int) -> int:
    rows, cols = mask.shape[0] // side, mask.shape[1] // side
    return int(mask.reshape(rows, side, cols, side).any(axis=(1, 3)).sum())


def _national_mask(u: np.ndarray, v: np.ndarray, pixels: int, blocks: int,
                   block_cells: int) -> np.ndarray:
    """A country (a blob: a smooth field thresholded) and its forest inside (a finer field's
    top `pixels` cells of the country); the country's threshold is bisected so that about
    `blocks` blocks hold a simulated cell."""
    country_field = 1 - ((u - 0.5) / 0.5) ** 2 - ((v - 0.5) / 0.5) ** 2 + _waves(u, v,
                                                                              COUNTRY_WAVES)
    forest_field = _waves(u, v, FOREST_WAVES)

    def mask_at(threshold: float) -> np.ndarray:
        country = country_field > threshold
        return _top(forest_field, country, pixels)

    low, high = float(country_field.min()), float(country_field.max())
    for _ in range(40):  # a lower threshold: a larger country, more blocks touched
        middle = (low + high) / 2
        if _blocks_touched(mask_at(middle), block_cells) > blocks:
            low = middle
        else:
            high = middle
    candidates = [mask_at(low), mask_at(high)]
    return min(candidates, key=lambda mask: abs(_blocks_touched(mask, block_cells) - blocks))


def tiled_landscape(project_zip: Path, target: Path, *, tiles: tuple[int, int] = (7, 5),
                    west: int = -109, north: int = 57, cell: float = 0.01,
                    pixels: int | None = None, blocks: int | None = None,
                    patch: int = 5) -> TiledLandscape:
    """A landscape like a published national project: `tiles` (columns, rows) tiles of 1°
    from (`west`, `north`), blocks of 0.1°, cells of `cell`°; a blob-shaped country and its
    forest hold `pixels` simulated cells in about `blocks` blocks (by default the national
    project's 151,051 and 1,790 per 35 tiles, scaled to the number of tiles). Classifiers come
    in `patch`-cell patches of the demo's strata, temperature is a smooth field plus a
    per-cell offset (no two cells of a block alike), ages vary per cell, and the demo's
    disturbance layers are redrawn in patches covering the same fraction of simulated cells
    with their attribute-table values in the demo's proportions. Everything else (the input
    database, the configuration) is the demo's. Each layer is one GeoTIFF of the whole
    extent, which the engine reads by window like a tile's file."""
    n_tiles = tiles[0] * tiles[1]
    pixels = pixels if pixels is not None else round(NATIONAL_PIXELS * n_tiles / NATIONAL_TILES)
    blocks = blocks if blocks is not None else round(NATIONAL_BLOCKS * n_tiles / NATIONAL_TILES)
    per_tile = round(1 / cell)
    block_cells = round(0.1 / cell)
    height, width = tiles[1] * per_tile, tiles[0] * per_tile
    if not (1 <= n_tiles <= 100 and per_tile * cell == 1.0 and block_cells * cell == 0.1):
        raise InputError("tiles must be 1..100 and cell divide 0.1°", field="tiles/cell")
    if not 0 < pixels <= height * width:
        raise InputError(f"pixels must be within 1..{height * width}", field="pixels")
    with zipfile.ZipFile(project_zip) as zipped:
        zipped.extractall(target)
    root = Path(target)
    config = next(root.glob("**/config/provider_config.json")).parent
    layers = next(root.glob("**/layers/tiled"))
    rows, cols = np.indices((height, width))
    u, v = (cols + 0.5) / width, (rows + 0.5) / height
    mask = _national_mask(u, v, pixels, blocks, block_cells)
    demo = {path.stem: _read_layer(path) for path in sorted(layers.glob("*.tif*"))}
    demo_mask = demo["Classifier1"][0] != demo["Classifier1"][1]
    for path in layers.glob("*.tif*"):  # the demo's (bounding_box included: not in our grid)
        path.unlink()
    layers_written = _national_layers(demo, demo_mask, mask, rows, cols, u, v, patch,
                                      block_cells)
    transform = rasterio.transform.from_origin(west, north, cell, cell)
    for name, (data, nodata) in layers_written.items():
        _write_layer(layers / f"{name}.tiff", data, nodata, transform)
        metadata = layers / f"{name}.json"
        document = json.loads(metadata.read_text(encoding="utf-8"))
        document["cellLatSize"] = document["cellLonSize"] = cell
        metadata.write_text(json.dumps(document, indent=4, ensure_ascii=False), encoding="utf-8")
    (layers / "bounding_box.json").unlink(missing_ok=True)
    _national_config(config, tiles, west, north, cell, per_tile)
    return TiledLandscape(root, n_tiles, _blocks_touched(mask, block_cells), int(mask.sum()))


def _read_layer(path: Path) -> tuple[np.ndarray, float]:
    with rasterio.open(path) as dataset:
        return dataset.read(1), dataset.nodata


def _national_layers(demo: dict[str, tuple[np.ndarray, float]], demo_mask: np.ndarray,
                     mask: np.ndarray, rows: np.ndarray, cols: np.ndarray, u: np.ndarray,
                     v: np.ndarray, patch: int, block_cells: int
                     ) -> dict[str, tuple[np.ndarray, float]]:
    """Each layer's cells (nodata outside `mask`) and nodata value."""
    first, second = demo["Classifier1"][0][demo_mask], demo["Classifier2"][0][demo_mask]
    strata = np.unique(np.stack([first, second]), axis=1)
    patch_id = (rows // patch) * (cols.shape[1] // patch + 1) + cols // patch
    stratum = (patch_id * 7919) % strata.shape[1]  # a fixed scatter of strata over patches
    out = {}
    for k, name in enumerate(("Classifier1", "Classifier2")):
        data, nodata = demo[name]
        out[name] = (np.where(mask, strata[k][stratum], nodata).astype(data.dtype), nodata)
    data, nodata = demo["mean_annual_temperature"]
    smooth = 6.0 - 8.0 * v + _waves(u, v, ((0.8, 2.3, 1.1, 0.4), (0.3, 6.1, -4.7, 1.9)))
    in_block = (rows % block_cells) * block_cells + cols % block_cells  # 0..99 in a block
    temperature = smooth + 1e-4 * in_block
    out["mean_annual_temperature"] = (np.where(mask, temperature, nodata).astype(data.dtype),
                                      nodata)
    data, nodata = demo["initial_age"]
    age = 1 + (17 * rows + 31 * cols) % 150
    out["initial_age"] = (np.where(mask, age, nodata).astype(data.dtype), nodata)
    events = sorted(name for name in demo if name.startswith("disturbances_"))
    for k, name in enumerate(events):
        data, nodata = demo[name]
        values = data[demo_mask]
        values = values[values != nodata]
        layer = np.full(mask.shape, nodata, dtype=data.dtype)
        disturbed = _top(_waves(u, v, EVENT_WAVES, phase=1.7 * k), mask,
                         round(values.size / demo_mask.sum() * mask.sum()))
        codes, counts = np.unique(values, return_counts=True)
        cells = np.flatnonzero(disturbed)  # split in the demo's proportions, in reading order
        bounds = np.round(np.cumsum(counts) / counts.sum() * cells.size).astype(int)
        for code, start, stop in zip(codes, np.r_[0, bounds[:-1]], bounds, strict=True):
            layer.ravel()[cells[start:stop]] = code
        out[name] = (layer, nodata)
    return out


def _write_layer(path: Path, data: np.ndarray, nodata: float, transform) -> None:
    profile = {"driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1,
               "dtype": data.dtype, "nodata": nodata, "crs": "EPSG:4326",
               "transform": transform, "tiled": True, "blockxsize": 256, "blockysize": 256,
               "compress": "deflate"}
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(data, 1)


def _national_config(config: Path, tiles: tuple[int, int], west: int, north: int,
                     cell: float, per_tile: int) -> None:
    """The provider's cell size and the local domain's tiles, indexed as FLINT does: row
    (from 90N) × 360 + column (from 180W) for 1° tiles."""
    provider_path = config / "provider_config.json"
    provider = json.loads(provider_path.read_text(encoding="utf-8"))
    for entry in provider["Providers"].values():
        if entry.get("type") == "RasterTiledGDAL":
            entry["cellLatSize"] = entry["cellLonSize"] = cell
    provider_path.write_text(json.dumps(provider, indent=4), encoding="utf-8")
    domain_path = config / "localdomain.json"
    domain = json.loads(domain_path.read_text(encoding="utf-8"))
    landscape = domain["LocalDomain"]["landscape"]
    landscape["tiles"] = [{"x": west + i, "y": north - j, "index": (90 - (north - j)) * 360
                           + (west + i + 180)}
                          for j in range(tiles[1]) for i in range(tiles[0])]
    landscape["x_pixels"] = landscape["y_pixels"] = per_tile
    domain_path.write_text(json.dumps(domain, indent=4), encoding="utf-8")
