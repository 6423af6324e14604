"""Benchmark: the GCBM demo end to end (python benchmarks/gcbm_demo.py [project.zip]).

Runs the engine alone, then the engine with every output (GCBM's GeoTIFFs and results database,
COG mosaics, CSVs, manifest); prints wall time, peak memory and the ratios to real GCBM.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import flintcloud  # noqa: F401  (sets NumPy's libm-exact mode before NumPy loads)

GCBM_SECONDS, GCBM_MB = 44.3, 330.0  # real GCBM, 2-core machine (gcbm-reference/README.md)
DEFAULT = Path(__file__).resolve().parents[1].parent / "shared/data/gcbm-demo/gcbm-project-demo.zip"


def main() -> None:
    from flintcloud.runner.gcbm import run_project
    from flintcloud.runner.gcbm_outputs import run_gcbm

    project = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    started = time.perf_counter()
    run = run_project(project)
    engine = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        outputs = run_gcbm(project, out)
        everything = time.perf_counter() - started
    print(f"demo engine: {run.n_pixels} pixels, {run.n_blocks_simulated}/{run.n_blocks} blocks, "
          f"{engine:.2f} s wall, peak RSS {peak_mb:.0f} MB; "
          f"{GCBM_SECONDS / engine:.1f}x faster than GCBM ({GCBM_SECONDS} s, {GCBM_MB:.0f} MB)")
    print(f"demo with all outputs ({len(outputs.files)} files): {everything:.2f} s wall "
          f"(+{(everything / engine - 1) * 100:.0f}% over the engine alone); "
          f"{GCBM_SECONDS / everything:.1f}x faster than GCBM")


if __name__ == "__main__":
    main()
