"""The deployment shape of the service on Dask, end to end: a `dask scheduler` and two
`dask worker` processes started from their command line on loopback, and `flintcloud serve` in
its own process with `FLINTCLOUD_DASK_SCHEDULER` pointing at them (as compose and Kubernetes
start them). A GCBM simulation run through the HTTP API runs its blocks on the cluster and
writes the same files as a local run; dismissing a job mid-run frees the cluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from flintcloud.gcbm.run import run_gcbm
from tests.served import ServedProcess, free_port

distributed = pytest.importorskip("dask.distributed", reason="install flintcloud[dask]")

DASK = str(Path(sys.executable).parent / "dask")


def _wait_for(condition, timeout: float = 60.0) -> None:
    # Other processes: their state can only be polled, within a deadline.
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _start(command: list[str], log: Path) -> subprocess.Popen:
    # Its own process group: the nanny's worker process goes with it at the end.
    with log.open("w") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[tuple[str, distributed.Client]]:
    """(scheduler address, an observer client) of a scheduler and two single-threaded workers."""
    folder = tmp_path_factory.mktemp("dask")
    address = f"tcp://127.0.0.1:{free_port()}"
    processes = [_start([DASK, "scheduler", "--host", "127.0.0.1", "--port",
                         address.rsplit(":", 1)[1], "--no-dashboard",
                         "--preload", "flintcloud.gcbm.run"], folder / "scheduler.log")]
    try:
        for name in ("w1", "w2"):
            processes.append(_start([DASK, "worker", address, "--name", name, "--nthreads", "1",
                                     "--no-dashboard", "--local-directory", str(folder / name),
                                     "--preload", "flintcloud.gcbm.run"],  # as deployed
                                    folder / f"{name}.log"))
        with distributed.Client(address, timeout=60) as observer:
            observer.wait_for_workers(2, timeout=60)
            yield address, observer
    finally:
        for process in reversed(processes):
            _stop(process)


@pytest.fixture
def served(cluster, tmp_path) -> Iterator[ServedProcess]:
    server = ServedProcess(tmp_path, workers=1, dask_scheduler=cluster[0])
    yield server
    server.stop()


def _executed(observer) -> int:
    """Tasks the cluster's workers have run so far."""
    return sum(observer.run(lambda dask_worker: dask_worker.state.executed_count).values())


def _cluster_is_idle(observer) -> bool:
    tasks = observer.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
    executing = observer.run(lambda dask_worker: len(dask_worker.state.executing))
    return tasks == 0 and not any(executing.values())


def _run(server: ServedProcess, project: bytes) -> tuple[str, str]:
    """(simulation id, job id) of a run of `project` started through the API."""
    client = server.client
    simulation = client.post("/simulations", json={"title": "on dask"}).json()["id"]
    uploaded = client.post(f"/simulations/{simulation}/files",
                           files=[("files", ("project.zip", project))])
    assert uploaded.status_code == 200, uploaded.text
    started = client.post(f"/simulations/{simulation}/run")
    assert started.status_code == 201, started.text
    return simulation, started.json()["jobID"]


def _finished(server: ServedProcess, job: str) -> dict:
    status: dict = {}

    def done() -> bool:
        status.update(server.client.get(f"/jobs/{job}").json())
        return status["status"] not in ("accepted", "running")

    _wait_for(done, timeout=120)
    return status


def _hashes(manifest: dict) -> dict[str, str]:
    return {entry["path"]: entry["sha256"] for entry in manifest["outputs"]}


def test_served_gcbm_run_uses_the_dask_cluster_and_writes_a_local_runs_files(
        cluster, served, tmp_path):
    from tests.gcbm.conftest import demo_zip

    _, observer = cluster
    before = _executed(observer)
    simulation, job = _run(served, demo_zip().read_bytes())
    status = _finished(served, job)
    assert status["status"] == "successful", status
    assert _executed(observer) > before  # the demo's block and its maps' tasks ran there

    local = tmp_path / "local"
    run_gcbm(demo_zip(), local)
    served_manifest = served.client.get(f"/simulations/{simulation}/outputs/manifest.json").json()
    # every output (results db, GeoTIFFs, compiled db, summaries, COGs): the same bytes
    assert _hashes(served_manifest) == _hashes(json.loads((local / "manifest.json").read_text()))
    summary = served.client.get(f"/simulations/{simulation}/summary").json()
    assert summary["years"] == json.loads((local / "annual_summary.json").read_text())
    _wait_for(lambda: _cluster_is_idle(observer))


def test_dismissing_a_served_job_mid_run_frees_the_dask_cluster(cluster, served, tmp_path):
    from benchmarks.landscapes import replicate_blocks
    from tests.gcbm.conftest import demo_zip

    _, observer = cluster
    project = replicate_blocks(demo_zip(), 60, tmp_path / "project")
    archive = tmp_path / "project.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(Path(project).rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(project))
    before = _executed(observer)
    simulation, job = _run(served, archive.read_bytes())
    _wait_for(lambda: _executed(observer) > before)  # mid-run: blocks are running there
    dismissed = served.client.delete(f"/jobs/{job}")
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    _wait_for(lambda: _cluster_is_idle(observer))  # its queued blocks were dropped
    assert _executed(observer) - before < 60
    assert served.client.get(f"/jobs/{job}").json()["status"] == "dismissed"
    assert served.client.get(f"/simulations/{simulation}").json()["status"] == "dismissed"
