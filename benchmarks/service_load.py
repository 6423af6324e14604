"""Load benchmark of the service (not a test): status polls while point runs execute.

    python benchmarks/service_load.py --start-server            # starts its own `flintcloud serve`
    python benchmarks/service_load.py --url http://127.0.0.1:8080

By default 200 clients poll a job's status (`GET /jobs/{id}`) concurrently, each every
`--poll-interval` seconds, while 20 clients run the Point example synchronously (`POST /point`).
It prints p50/p90/p99/max latency, throughput and errors (any non-2xx answer or transport error)
for both, as a Markdown table. Target: 0 errors, status p99 < 50 ms.

Each client keeps one HTTP/1.1 connection and speaks the protocol with a few lines of asyncio
(`Connection` below): on a small machine a full HTTP client library costs the load generator more
CPU than the server spends per request, and the figures would measure the client.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np


@dataclass
class Samples:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def row(self, name: str, seconds: float) -> str:
        values = np.array(self.latencies_ms) if self.latencies_ms else np.array([np.nan])
        p50, p90, p99 = np.percentile(values, [50, 90, 99])
        count = len(self.latencies_ms)
        return (f"| {name} | {count} | {count / seconds:.0f} | {p50:.1f} | {p90:.1f} | {p99:.1f} "
                f"| {values.max():.1f} | {self.errors} |")


class Connection:
    """One keep-alive HTTP/1.1 connection: enough protocol for GET/POST with Content-Length."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, method: str, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                          f"Content-Length: 0\r\n\r\n".encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        body = await self.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def timed(connection: Connection, samples: Samples, method: str, path: str) -> None:
    start = time.perf_counter()
    try:
        status, _ = await connection.request(method, path)
        ok = 200 <= status < 300
    except (OSError, asyncio.IncompleteReadError, ValueError):
        ok = False
        connection.close()
    samples.latencies_ms.append((time.perf_counter() - start) * 1000)
    if not ok:
        samples.errors += 1


async def run(url: str, pollers: int, runs: int, rounds: int, poll_interval: float,
              warmup: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        jobs = []
        for _ in range(10):  # jobs to poll: as a UI would, each client watches one
            response = await client.post("/processes/point/execution", json={"inputs": {}},
                                         headers={"Prefer": "respond-async"})
            response.raise_for_status()
            jobs.append(response.json()["jobID"])
        for _ in range(warmup):
            (await client.post("/point")).raise_for_status()
    host, port = httpx.URL(url).host, httpx.URL(url).port or 80
    status, point = Samples(), Samples()
    done = asyncio.Event()

    async def poller(index: int) -> None:
        connection = Connection(host, port)
        job = jobs[index % len(jobs)]
        await asyncio.sleep(poll_interval * index / pollers)  # spread the clients over time
        while not done.is_set():
            await timed(connection, status, "GET", f"/jobs/{job}")
            await asyncio.sleep(poll_interval)
        connection.close()

    async def runner() -> None:
        connection = Connection(host, port)
        await timed(connection, point, "POST", "/point")
        connection.close()

    start = time.perf_counter()
    polling = [asyncio.create_task(poller(i)) for i in range(pollers)]
    await asyncio.sleep(poll_interval)  # every poller is polling before the runs start
    for _ in range(rounds):  # rounds of `runs` concurrent point runs, one after the other
        await asyncio.gather(*(runner() for _ in range(runs)))
    done.set()
    await asyncio.gather(*polling)
    seconds = time.perf_counter() - start

    load = "/".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\n{pollers} status pollers (each every {poll_interval:g} s) + {rounds} rounds of {runs} "
          f"concurrent point runs, {seconds:.1f} s, {os.cpu_count()} CPUs, load average {load}\n")
    print("| requests | n | per s | p50 ms | p90 ms | p99 ms | max ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    print(status.row("GET /jobs/{id}", seconds))
    print(point.row("POST /point", seconds))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(workers: int) -> tuple[subprocess.Popen, str, Path]:
    data = Path(tempfile.mkdtemp(prefix="flintcloud-bench-"))
    port = free_port()
    command = [str(Path(sys.executable).parent / "flintcloud"), "serve", "--port", str(port),
               "--data-dir", str(data / "data"), "--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/check").status_code == 200:
                return server, url, data
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--start-server", action="store_true", help="start `flintcloud serve` first")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of that server")
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20, help="concurrent point runs")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of concurrent point runs")
    parser.add_argument("--poll-interval", type=float, default=0.5, help="seconds between polls")
    parser.add_argument("--warmup", type=int, default=2, help="point runs before measuring")
    args = parser.parse_args()
    server = data = None
    url = args.url
    if args.start_server:
        server, url, data = start_server(args.workers)
    try:
        asyncio.run(run(url, args.pollers, args.runs, args.rounds, args.poll_interval, args.warmup))
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
