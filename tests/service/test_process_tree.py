"""Every process a job starts dies with the job: kill -9 of the job process, of its worker or of
`flintcloud serve` leaves no process of the job alive (a forkserver process pool, a forked child,
a subprocess), against a real server. Polls with timeouts; nothing sleeps blindly."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from pathlib import Path

import pytest

from conftest import SERVICE_TESTS
from flintcloud.service.db import Database
from flintcloud.service.jobs import JobRepository
from tests.served import ServedProcess
from tests.service.test_server import pid_alive, wait_until


class FamilyServer(ServedProcess):
    def __init__(self, folder: Path) -> None:
        super().__init__(folder, workers=1, env={
            "PYTHONPATH": os.pathsep.join([str(SERVICE_TESTS), os.environ.get("PYTHONPATH", "")])},
            extra_processes=["family_process:FAMILY"], heartbeat_timeout_s="10")

    def start_family(self) -> tuple[str, dict[str, int]]:
        """Start a family job; (job id, its processes' pids once they are all up)."""
        response = self.client.post("/processes/family/execution", json={"inputs": {}},
                                    headers={"Prefer": "respond-async"})
        assert response.status_code == 201, response.text
        job_id = response.json()["jobID"]
        path = wait_until(lambda: next(self.data_dir.rglob(f"jobs/{job_id}/**/family.json"), None),
                          "the job's processes to start", timeout=60)
        return job_id, json.loads(path.read_text())

    def worker_pid(self, job_id: str) -> int:
        database = Database(f"sqlite:///{(self.data_dir / 'flintcloud.db').resolve()}")
        try:
            return int(JobRepository(database).get(job_id).worker_id.split("/")[1])
        finally:
            database.dispose()


@pytest.fixture(scope="module")
def family_server(tmp_path_factory):
    running = FamilyServer(tmp_path_factory.mktemp("family"))
    yield running
    running.stop()


def assert_all_die(family: dict[str, int]) -> None:
    try:
        wait_until(lambda: not any(pid_alive(pid) for pid in family.values()),
                   "every process of the job to die", timeout=15)
    finally:  # a failure must not leave the survivors running
        survivors = {name: pid for name, pid in family.items() if pid_alive(pid)}
        for pid in survivors.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert survivors == {}


@pytest.mark.parametrize("victim", ["job", "worker"])
def test_kill_9_of_the_job_process_or_its_worker_leaves_no_process_of_the_job(family_server,
                                                                                victim):
    job_id, family = family_server.start_family()
    assert all(pid_alive(pid) for pid in family.values()), family
    target = family["job"] if victim == "job" else family_server.worker_pid(job_id)
    os.kill(target, signal.SIGKILL)
    assert_all_die(family)
    # Either way the job is retried (one retry policy); its next attempt is dismissed, so the
    # single worker is free for the next test.
    attempts = wait_until(lambda: (family_server.client.get(f"/jobs/{job_id}").json()
                                   .get("attempts") or 0) >= 2 or None,
                          "the job's second attempt", timeout=60)
    assert attempts
    assert family_server.client.delete(f"/jobs/{job_id}").status_code == 200


def test_kill_9_of_serve_leaves_no_process_of_the_job(tmp_path):
    server = FamilyServer(tmp_path)
    try:
        job_id, family = server.start_family()
        family["worker"] = server.worker_pid(job_id)
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        assert_all_die(family)
    finally:
        server.stop()
