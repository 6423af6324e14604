"""Benchmark: the demo's data block replicated into N blocks of the same tile; N=25 gives 283,675
pixels.

    python benchmarks/gcbm_scaled.py [N] [--per-pixel] [--outputs] [--workers W] [--repeat R]
                                     [--workdir DIR]

--per-pixel simulates every pixel (no deduplication of pixels with identical inputs): the cost
for landscapes where every pixel differs, e.g. continuous temperature rasters.
--outputs also runs with every output written (`run_gcbm`), alternating with the engine alone
R times (3 by default: shared VMs are noisy), and prints the ratio of the best times and of the
medians; with --workers W, also with every output on a pool of W processes (`--workers` of
`flintcloud gcbm run`). The project and the outputs go to a temporary folder in DIR (default:
the system's).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import flintcloud  # noqa: F401

GCBM_25_BLOCKS_SECONDS = 495.0
DEMO = Path(__file__).resolve().parents[1].parent / "shared/data/gcbm-demo/gcbm-project-demo.zip"


def main() -> None:
    from landscapes import replicate_blocks

    from flintcloud.gcbm.run import run_project

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_blocks", nargs="?", type=int, default=25)
    parser.add_argument("--per-pixel", action="store_true")
    parser.add_argument("--outputs", action="store_true")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    repeat = args.repeat or (3 if args.outputs else 1)
    deduplicate = not args.per_pixel
    engine, everything, pooled = [], [], []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        project = replicate_blocks(DEMO, args.n_blocks, Path(tmp) / "project")
        for attempt in range(repeat):
            started = time.perf_counter()
            run = run_project(project, deduplicate=deduplicate)
            engine.append(time.perf_counter() - started)
            if args.outputs:
                from flintcloud.gcbm.run import process_pool, run_gcbm

                started = time.perf_counter()
                outputs = run_gcbm(project, Path(tmp) / f"out{attempt}")
                everything.append(time.perf_counter() - started)
                if args.workers > 1:
                    started = time.perf_counter()  # the pool's start counts
                    with process_pool(args.workers) as pool:
                        run_gcbm(project, Path(tmp) / f"pool{attempt}", executor=pool)
                    pooled.append(time.perf_counter() - started)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if args.outputs:
            best = min(everything) / min(engine) - 1
            median = statistics.median(everything) / statistics.median(engine) - 1
            print(f"with all outputs ({len(outputs.files)} files): best {min(everything):.2f} s "
                  f"(+{best * 100:.0f}% over the engine's best), median "
                  f"{statistics.median(everything):.2f} s (+{median * 100:.0f}%); runs "
                  f"{', '.join(f'{t:.2f}' for t in everything)} s")
        if pooled:
            print(f"with all outputs on {args.workers} processes: best {min(pooled):.2f} s "
                  f"({min(everything) / min(pooled):.2f}x one process), runs "
                  f"{', '.join(f'{t:.2f}' for t in pooled)} s")
    seconds = min(engine)
    mode = "distinct stands" if deduplicate else "every pixel"
    line = (f"scaled ({mode}): {args.n_blocks} blocks, {run.n_pixels} pixels, {seconds:.2f} s wall"
            f" (best of {', '.join(f'{t:.2f}' for t in engine)}), peak RSS {peak_mb:.0f} MB")
    if args.n_blocks == 25:
        line += f"; {GCBM_25_BLOCKS_SECONDS / seconds:.1f}x faster than GCBM ({GCBM_25_BLOCKS_SECONDS} s)"
    print(line)


if __name__ == "__main__":
    main()
