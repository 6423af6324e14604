"""Benchmark: a scaled GCBM landscape on a real local Dask cluster of 1, then 2, workers.

    python benchmarks/gcbm_dask.py [N_BLOCKS] [--workers 1 2] [--workdir DIR]

The demo's data block replicated into N blocks (default 100: 1,134,700 pixels,
benchmarks/landscapes.py), run with every output by `flintcloud.gcbm.run.run_gcbm` on a cluster
started here as it is deployed: a `dask scheduler` process and W single-threaded `dask worker`
processes on loopback (the executor path of the service's FLINTCLOUD_DASK_SCHEDULER and
`flintcloud gcbm run --scheduler`). Prints wall time, pixels/s, the speed-up over the first
worker count, each worker's peak RSS and CPU seconds, and the driver's.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import flintcloud  # noqa: F401  (sets NumPy's libm-exact mode before NumPy loads)

DEMO = Path(__file__).resolve().parents[1].parent / "shared/data/gcbm-demo/gcbm-project-demo.zip"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def _cluster(workers: int, folder: Path) -> Iterator[str]:
    """A scheduler and `workers` single-threaded workers, each its own process group."""
    dask = str(Path(sys.executable).parent / "dask")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    commands = [[dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                 "--preload", "flintcloud.gcbm.run"]]
    commands += [[dask, "worker", address, "--nthreads", "1", "--no-dashboard",
                  "--local-directory", str(folder / f"w{k}"), "--preload", "flintcloud.gcbm.run"]
                 for k in range(workers)]
    processes = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True) for command in commands]
    try:
        yield address
    finally:
        for process in reversed(processes):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def main() -> None:
    from dask.distributed import Client
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
            with _cluster(workers, Path(tmp)) as address, Client(address, timeout=60) as client:
                client.wait_for_workers(workers, timeout=60)
                started = time.perf_counter()  # the workers are up: their start is not counted
                cpu = _cpu_seconds()
                outputs = run_gcbm(project, Path(tmp) / f"out{workers}",
                                   executor=client.get_executor(pure=False))
                seconds = time.perf_counter() - started
                driver_cpu = _cpu_seconds() - cpu
                peaks = sorted(client.run(_peak_rss_mb).values())
                worker_cpu = sorted(client.run(_cpu_seconds).values())
            first = first or (workers, seconds)
            speed_up = first[1] / seconds
            print(f"{workers} worker(s): {outputs.run.n_pixels:,} pixels in "
                  f"{outputs.run.n_blocks_simulated} blocks, {seconds:.1f} s with every output "
                  f"({outputs.run.n_pixels / seconds:,.0f} pixels/s; blocks "
                  f"{outputs.run.wall_seconds:.1f} s, then maps, databases, indicators and "
                  f"manifest {seconds - outputs.run.wall_seconds:.1f} s), {speed_up:.2f}x "
                  f"{first[0]} worker(s); peak RSS per worker "
                  f"{', '.join(f'{peak:.0f}' for peak in peaks)} MB, CPU seconds per worker "
                  f"{', '.join(f'{c:.1f}' for c in worker_cpu)} (since it started); driver "
                  f"{_peak_rss_mb():.0f} MB, {driver_cpu:.1f} CPU seconds", flush=True)

if __name__ == "__main__":
    main()
