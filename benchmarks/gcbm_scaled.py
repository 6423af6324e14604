"""Benchmark: the demo's data block replicated into N blocks of the same tile
(python benchmarks/gcbm_scaled.py [N] [--per-pixel] [--outputs] [--workdir DIR]); N=25 gives
283,675 pixels. The project and outputs go to a temporary folder in DIR (default: the system's).

--per-pixel simulates every pixel (no deduplication of pixels with identical inputs): the cost
for landscapes where every pixel differs, e.g. continuous temperature rasters.
--outputs also runs with every output written and prints the ratio to the engine alone, and
what creating one small file costs on this file system at the time (on the project's VMs it
varies from 0.03 to 0.9 ms, and a 25-block run writes 6,013 files).
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import flintcloud  # noqa: F401

GCBM_25_BLOCKS_SECONDS = 495.0
DEMO = Path(__file__).resolve().parents[1].parent / "shared/data/gcbm-demo/gcbm-project-demo.zip"


def file_creation_seconds(folder: Path, n: int = 1000) -> float:
    """Seconds to create, write 10 kB to and close one file, on average over n."""
    folder.mkdir()
    started = time.perf_counter()
    for i in range(n):
        descriptor = os.open(folder / f"{i}.tif", os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(descriptor, bytes(10_000))
        os.close(descriptor)
    return (time.perf_counter() - started) / n


def main() -> None:
    from flintcloud.io.gcbm.scaled import replicate_blocks
    from flintcloud.runner.gcbm import run_project

    argv = sys.argv[1:]
    workdir = None
    if "--workdir" in argv:
        at = argv.index("--workdir")
        workdir, argv = argv[at + 1], argv[:at] + argv[at + 2:]
    args = [arg for arg in argv if not arg.startswith("--")]
    n_blocks = int(args[0]) if args else 25
    deduplicate = "--per-pixel" not in argv
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        project = replicate_blocks(DEMO, n_blocks, Path(tmp))
        started = time.perf_counter()
        run = run_project(project, deduplicate=deduplicate)
        seconds = time.perf_counter() - started
        if "--outputs" in argv:
            from flintcloud.runner.gcbm_outputs import run_gcbm

            per_file = file_creation_seconds(Path(tmp) / "calibration")
            started = time.perf_counter()
            outputs = run_gcbm(project, Path(tmp) / "out")
            everything = time.perf_counter() - started
            print(f"with all outputs ({len(outputs.files)} files): {everything:.2f} s wall "
                  f"(+{(everything / seconds - 1) * 100:.0f}% over the engine alone); creating "
                  f"a file here costs {per_file * 1e3:.2f} ms now "
                  f"({per_file * len(outputs.files):.1f} s for this run's files)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    mode = "distinct stands" if deduplicate else "every pixel"
    line = (f"scaled ({mode}): {n_blocks} blocks, {run.n_pixels} pixels, {seconds:.2f} s wall, "
            f"peak RSS {peak_mb:.0f} MB")
    if n_blocks == 25:
        line += f"; {GCBM_25_BLOCKS_SECONDS / seconds:.1f}x faster than GCBM ({GCBM_25_BLOCKS_SECONDS} s)"
    print(line)


if __name__ == "__main__":
    main()
