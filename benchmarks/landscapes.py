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
