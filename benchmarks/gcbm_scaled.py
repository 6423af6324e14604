"""Benchmark: the demo's data block replicated into N blocks of the same tile
(python benchmarks/gcbm_scaled.py [N]); N=25 gives 283,675 pixels."""

from __future__ import annotations

import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import flintcloud  # noqa: F401

GCBM_25_BLOCKS_SECONDS = 495.0
DEMO = Path(__file__).resolve().parents[1].parent / "shared/data/gcbm-demo/gcbm-project-demo.zip"
DATA_BLOCK = (5, 1)  # block 51 = (row 5, col 1) holds all the demo's data


def make_scaled_project(n_blocks: int, target: Path) -> Path:
    """Copy the demo and paste its data block into the first n_blocks blocks of the tile."""
    import numpy as np
    import rasterio

    with zipfile.ZipFile(DEMO) as zipped:
        zipped.extractall(target)
    layers = next(target.glob("**/layers/tiled"))
    size = 400
    r0, c0 = DATA_BLOCK[0] * size, DATA_BLOCK[1] * size
    for path in sorted(layers.glob("*.tiff")):
        if path.name == "bounding_box.tiff":
            continue
        with rasterio.open(path, "r+") as dataset:
            data = dataset.read(1)
            block = data[r0:r0 + size, c0:c0 + size].copy()
            out = np.full_like(data, dataset.nodata if dataset.nodata is not None else 0)
            for index in range(n_blocks):
                row, col = divmod(index, 10)
                out[row * size:(row + 1) * size, col * size:(col + 1) * size] = block
            dataset.write(out, 1)
    return target


def main() -> None:
    from flintcloud.runner.gcbm import run_project

    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    n_blocks = int(args[0]) if args else 25
    # --per-pixel simulates every pixel (no deduplication of pixels with identical inputs):
    # the cost for landscapes where every pixel differs, e.g. continuous temperature rasters
    deduplicate = "--per-pixel" not in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        project = make_scaled_project(n_blocks, Path(tmp))
        started = time.perf_counter()
        run = run_project(project, deduplicate=deduplicate)
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mode = "distinct stands" if deduplicate else "every pixel"
    line = (f"scaled ({mode}): {n_blocks} blocks, {run.n_pixels} pixels, {seconds:.2f} s wall, "
            f"peak RSS {peak_mb:.0f} MB")
    if n_blocks == 25:
        line += f"; {GCBM_25_BLOCKS_SECONDS / seconds:.1f}x faster than GCBM ({GCBM_25_BLOCKS_SECONDS} s)"
    print(line)


if __name__ == "__main__":
    main()
