"""`flintcloud serve` in a subprocess on a free loopback port, for tests that need a real server
(HTTP end to end, worker processes, browsers)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

START_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServedProcess:
    """A server with its own data directory (`folder/data`), log (`folder/server.log`) and
    `FLINTCLOUD_*` settings; stopped with SIGTERM."""

    def __init__(self, folder: Path, *, workers: int = 2, env: dict[str, str] | None = None,
                 **settings: object) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = folder / "data"
        self.log_path = folder / "server.log"
        environment = {**os.environ, "FLINTCLOUD_HEARTBEAT_INTERVAL_S": "0.1", **(env or {}),
                       **{f"FLINTCLOUD_{name.upper()}": value if isinstance(value, str)
                          else json.dumps(value) for name, value in settings.items()}}
        command = [str(Path(sys.executable).parent / "flintcloud"), "serve",
                   "--port", str(self.port), "--data-dir", str(self.data_dir),
                   "--workers", str(workers)]
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(command, env=environment, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self.client = httpx.Client(base_url=self.url, timeout=30)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._ready():
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the server did not start: {self.log_path.read_text()}")
            time.sleep(0.05)

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the server exited: {self.log_path.read_text()}")
        try:
            return self.client.get("/check").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        self.client.close()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
