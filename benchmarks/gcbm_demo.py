"""Benchmark: the GCBM demo end to end.

    python benchmarks/gcbm_demo.py [project.zip] [--repeat R] [--workdir DIR]

Runs the engine alone and the engine with every output (GCBM's GeoTIFFs and results database,
COG mosaics, compiled indicators, CSVs, manifest), alternating R times (3 by default: shared VMs
are noisy); prints the best and median wall times, peak memory and the ratios to real GCBM.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import flintcloud  # noqa: F401  (sets NumPy's libm-exact mode before NumPy loads)

GCBM_SECONDS, GCBM_MB = 44.3, 330.0  # real GCBM, 2-core machine (gcbm-reference/README.md)
DEFAULT = Path(__file__).resolve().parents[1].parent / "shared/data/gcbm-demo/gcbm-project-demo.zip"


def main() -> None:
    from flintcloud.gcbm.run import run_gcbm, run_project

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    engine, everything = [], []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for attempt in range(args.repeat):
            started = time.perf_counter()
            run = run_project(args.project)
            engine.append(time.perf_counter() - started)
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            started = time.perf_counter()
            outputs = run_gcbm(args.project, Path(tmp) / f"out{attempt}")
            everything.append(time.perf_counter() - started)
    best, median = min(engine), statistics.median(engine)
    print(f"demo engine: {run.n_pixels} pixels, {run.n_blocks_simulated}/{run.n_blocks} blocks, "
          f"best {best:.2f} s, median {median:.2f} s, peak RSS {peak_mb:.0f} MB; "
          f"{GCBM_SECONDS / best:.1f}x faster than GCBM ({GCBM_SECONDS} s, {GCBM_MB:.0f} MB)")
    print(f"demo with all outputs ({len(outputs.files)} files): best {min(everything):.2f} s "
          f"(+{(min(everything) / best - 1) * 100:.0f}% over the engine's best), median "
          f"{statistics.median(everything):.2f} s "
          f"(+{(statistics.median(everything) / median - 1) * 100:.0f}%); "
          f"{GCBM_SECONDS / min(everything):.1f}x faster than GCBM")


if __name__ == "__main__":
    main()
