"""Benchmark: a scaled GCBM landscape on a real local Dask cluster of 1, then 2, workers.

    python benchmarks/gcbm_dask.py [N_BLOCKS] [--workers 1 2] [--workdir DIR]

The demo's data block replicated into N blocks (default 100: 1,134,700 pixels,
benchmarks/landscapes.py), run with every output by `flintcloud.gcbm.run.run_gcbm` on a
`LocalCluster` of W single-threaded worker processes started here (the same executor path as
`flintcloud gcbm run --dask-workers W` and the service's FLINTCLOUD_DASK_SCHEDULER). Prints
wall time, pixels/s, the speed-up over the first worker count, and each worker's peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import flintcloud  # noqa: F401  (sets NumPy's libm-exact mode before NumPy loads)

DEMO = Path(__file__).resolve().parents[1].parent / "shared/data/gcbm-demo/gcbm-project-demo.zip"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from dask.distributed import Client, LocalCluster
    from landscapes import replicate_blocks

    from flintcloud.gcbm.run import run_gcbm

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_blocks", nargs="?", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    first = None
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        project = replicate_blocks(DEMO, args.n_blocks, Path(tmp) / "project")
        for workers in args.workers:
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                started = time.perf_counter()  # the workers are up: their start is not counted
                outputs = run_gcbm(project, Path(tmp) / f"out{workers}",
                                   executor=client.get_executor(pure=False))
                seconds = time.perf_counter() - started
                peaks = sorted(client.run(_peak_rss_mb).values())
            first = first or (workers, seconds)
            speed_up = first[1] / seconds
            print(f"{workers} worker(s): {outputs.run.n_pixels:,} pixels in "
                  f"{outputs.run.n_blocks_simulated} blocks, {seconds:.1f} s with every output "
                  f"({outputs.run.n_pixels / seconds:,.0f} pixels/s; blocks "
                  f"{outputs.run.wall_seconds:.1f} s, then maps, databases, indicators and "
                  f"manifest {seconds - outputs.run.wall_seconds:.1f} s), {speed_up:.2f}x "
                  f"{first[0]} worker(s); peak RSS per worker "
                  f"{', '.join(f'{peak:.0f}' for peak in peaks)} MB; driver "
                  f"{_peak_rss_mb():.0f} MB", flush=True)


if __name__ == "__main__":
    main()
