"""Scaled landscapes for benchmarks and tests: a project whose data block is copied into more
blocks of the same tile (the demo's block 51 into blocks 0..N-1 gives N x 11,347 pixels)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import rasterio

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
