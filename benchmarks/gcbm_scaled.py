"""Benchmark: the demo's data block replicated into N blocks of the same tile
(python benchmarks/gcbm_scaled.py [N] [--per-pixel] [--outputs]); N=25 gives 283,675 pixels.

--per-pixel simulates every pixel (no deduplication of pixels with identical inputs): the cost
for landscapes where every pixel differs, e.g. continuous temperature rasters.
--outputs also runs with every output written and prints the ratio to the engine alone.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import flintcloud  # noqa: F401

GCBM_25_BLOCKS_SECONDS = 495.0
DEMO = Path(__file__).resolve().parents[1].parent / "shared/data/gcbm-demo/gcbm-project-demo.zip"


def main() -> None:
    from flintcloud.io.gcbm.scaled import replicate_blocks
    from flintcloud.runner.gcbm import run_project

    args = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    n_blocks = int(args[0]) if args else 25
    deduplicate = "--per-pixel" not in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        project = replicate_blocks(DEMO, n_blocks, Path(tmp))
        started = time.perf_counter()
        run = run_project(project, deduplicate=deduplicate)
        seconds = time.perf_counter() - started
        if "--outputs" in sys.argv:
            from flintcloud.runner.gcbm_outputs import run_gcbm

            started = time.perf_counter()
            outputs = run_gcbm(project, Path(tmp) / "out")
            everything = time.perf_counter() - started
            print(f"with all outputs ({len(outputs.files)} files): {everything:.2f} s wall "
                  f"(+{(everything / seconds - 1) * 100:.0f}% over the engine alone)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mode = "distinct stands" if deduplicate else "every pixel"
    line = (f"scaled ({mode}): {n_blocks} blocks, {run.n_pixels} pixels, {seconds:.2f} s wall, "
            f"peak RSS {peak_mb:.0f} MB")
    if n_blocks == 25:
        line += f"; {GCBM_25_BLOCKS_SECONDS / seconds:.1f}x faster than GCBM ({GCBM_25_BLOCKS_SECONDS} s)"
    print(line)


if __name__ == "__main__":
    main()
