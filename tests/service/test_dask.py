"""The service on a Dask cluster (`FLINTCLOUD_DASK_SCHEDULER`): a GCBM job's blocks run as tasks on
the cluster's worker processes, with the same files as a run in the job's process; a dismissed job
frees the cluster. The cluster is real (a scheduler and two worker processes on loopback)."""

from __future__ import annotations

import json
import threading
import time
import zipfile
from pathlib import Path

import pytest

from conftest import make_settings
from flintcloud.service.worker import Worker

distributed = pytest.importorskip("dask.distributed", reason="install flintcloud[dask]")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as local, \
            distributed.Client(local) as observer:
        yield local, observer


def _executed(observer) -> int:
    """Tasks the cluster's workers have run so far."""
    return sum(observer.run(lambda dask_worker: dask_worker.state.executed_count).values())


def _cluster_is_idle(observer) -> bool:
    """No task left on the scheduler (the observer itself holds none) and none executing."""
    tasks = observer.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))
    executing = observer.run(lambda dask_worker: len(dask_worker.state.executing))
    return tasks == 0 and not any(executing.values())


def _wait_for(condition, timeout: float = 30.0) -> None:
    # A real cluster in other processes: its state can only be polled, within a deadline.
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _output_hashes(client, simulation: str) -> dict[str, str]:
    manifest = client.get(f"/simulations/{simulation}/outputs/manifest.json").json()
    return {entry["path"]: entry["sha256"] for entry in manifest["outputs"]}


def _upload(client, project: bytes) -> str:
    simulation = client.post("/simulations", json={"title": "on dask"}).json()["id"]
    uploaded = client.post(f"/simulations/{simulation}/files",
                           files=[("files", ("project.zip", project))])
    assert uploaded.status_code == 200, uploaded.text
    return simulation


def test_a_gcbm_job_runs_its_blocks_on_the_cluster_with_the_same_outputs(
        client, services, worker, tmp_path, cluster):
    from tests.gcbm.conftest import demo_zip

    local, observer = cluster
    simulation = _upload(client, demo_zip().read_bytes())
    assert client.post(f"/simulations/{simulation}/run").status_code == 201
    here = worker.run_once()  # the fixture's settings: no scheduler
    assert here.status == "successful", here.error_detail
    expected = _output_hashes(client, simulation)
    summary = client.get(f"/simulations/{simulation}/summary").json()
    assert _executed(observer) == 0

    settings = make_settings(tmp_path, dask_scheduler=local.scheduler_address)
    on_dask = Worker(settings, database=services.database, registry=services.registry)
    assert client.post(f"/simulations/{simulation}/run").status_code == 201
    there = on_dask.run_once()
    assert there.status == "successful", there.error_detail
    assert there.message == "successful"
    assert _executed(observer) >= 1  # the demo's block (and the maps' tasks) ran on the cluster
    # db, GeoTIFFs, compiled indicators, summaries, mosaics: every output's bytes
    assert _output_hashes(client, simulation) == expected
    assert client.get(f"/simulations/{simulation}/summary").json() == summary
    _wait_for(lambda: _cluster_is_idle(observer))


def test_dismissing_a_job_on_the_cluster_frees_the_cluster(client, services, tmp_path, cluster):
    from benchmarks.landscapes import replicate_blocks
    from tests.gcbm.conftest import demo_zip

    local, observer = cluster
    project = replicate_blocks(demo_zip(), 60, tmp_path / "project")
    archive = tmp_path / "project.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(Path(project).rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(project))
    simulation = _upload(client, archive.read_bytes())
    job_id = client.post(f"/simulations/{simulation}/run").json()["jobID"]

    settings = make_settings(tmp_path, dask_scheduler=local.scheduler_address)
    on_dask = Worker(settings, database=services.database, registry=services.registry)
    outcome: list = []
    running = threading.Thread(target=lambda: outcome.append(on_dask.run_once()), daemon=True)
    running.start()
    before = _executed(observer)
    # mid-run: some blocks done on the cluster, most still to go
    _wait_for(lambda: _executed(observer) > before)
    dismissed = client.delete(f"/jobs/{job_id}")
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    running.join(timeout=30)
    assert not running.is_alive()
    # the killed job's client is gone: the scheduler dropped its queued blocks
    _wait_for(lambda: _cluster_is_idle(observer))
    assert _executed(observer) - before < 60
    assert client.get(f"/jobs/{job_id}").json()["status"] == "dismissed"
    assert json.loads(client.get(f"/simulations/{simulation}").text)["status"] == "dismissed"
