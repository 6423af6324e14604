"""Benchmark: the GCBM demo end to end (python benchmarks/gcbm_demo.py [project.zip])."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import flintcloud  # noqa: F401  (sets NumPy's libm-exact mode before NumPy loads)

GCBM_SECONDS, GCBM_MB = 44.3, 330.0  # real GCBM, 2-core machine (gcbm-reference/README.md)
DEFAULT = Path(__file__).resolve().parents[1].parent / "shared/data/gcbm-demo/gcbm-project-demo.zip"


def main() -> None:
    from flintcloud.runner.gcbm import run_project

    project = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    started = time.perf_counter()
    run = run_project(project)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"demo: {run.n_pixels} pixels, {run.n_blocks_simulated}/{run.n_blocks} blocks, "
          f"{seconds:.2f} s wall, peak RSS {peak_mb:.0f} MB; "
          f"{GCBM_SECONDS / seconds:.1f}x faster than GCBM ({GCBM_SECONDS} s, {GCBM_MB:.0f} MB)")


if __name__ == "__main__":
    main()
