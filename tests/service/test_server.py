"""Against a real `flintcloud serve` on a loopback port: HTTP end to end, worker processes,
kill -9 of a worker in the middle of a run. Tests poll with timeouts; nothing sleeps blindly."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import SERVICE_TESTS, demo_upload, multipart
from flintcloud.service.db import Database
from flintcloud.service.jobs import JobRepository
from tests.conftest import shared_path
from tests.served import ServedProcess
from tests.service.test_api_upstream import assert_reference_results

TIMEOUT_S = 60


def poll(fetch, done, what: str, timeout: float = TIMEOUT_S, every: float = 0.05):
    """fetch() until done(value); the value. Fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fetch()
        if done(value):
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_until(condition, what: str, timeout: float = TIMEOUT_S):
    return poll(condition, bool, what, timeout)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


class Server(ServedProcess):
    """`flintcloud serve` with the slow test process and quick heartbeats (tests/served.py)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder, env={
            "PYTHONPATH": os.pathsep.join([str(SERVICE_TESTS), os.environ.get("PYTHONPATH", "")])},
            extra_processes=["slow_process:SLOW"], heartbeat_timeout_s="10")

    def repository(self) -> JobRepository:
        return JobRepository(Database(f"sqlite:///{(self.data_dir / 'flintcloud.db').resolve()}"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("served"))
    yield running
    running.stop()


def poll_job(server: Server, job_id: str, predicate, what: str) -> dict:
    return poll(lambda: server.client.get(f"/jobs/{job_id}").json(), predicate, what)


def submit_async(server: Server, process_id: str, inputs: dict) -> str:
    response = server.client.post(f"/processes/{process_id}/execution", json={"inputs": inputs},
                                  headers={"Prefer": "respond-async"})
    assert response.status_code == 201, response.text
    return response.json()["jobID"]


def test_every_public_endpoint_answers(server):
    client = server.client
    assert client.get("/", headers={"Accept": "text/plain"}).text == "FLINT.Cloud API"
    assert client.get("/", headers={"Accept": "application/json"}).json()["links"]
    assert client.get("/check").text == "Checks OK"
    assert client.get("/version").json()["data"]["exitCode"] == 0
    assert client.get("/help/all").json()["data"]["exitCode"] == 0
    assert client.get("/conformance").status_code == 200
    assert {p["id"] for p in client.get("/processes").json()["processes"]} >= {"point", "rothc", "gcbm", "slow"}
    assert client.get("/processes/gcbm").status_code == 200
    assert client.get("/spec").json()["info"]["title"] == "FLINT Cloud"
    assert client.get("/docs").status_code == 200
    assert client.get("/jobs").status_code == 200
    assert client.get("/gcbm/list").json()["message"]
    assert client.get("/nope").status_code == 404
    assert client.get("/nope").headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("path", "reference"), [("/point", "default_point_output.csv"),
                                                  ("/rothc", "default_point_rothc_output.csv")])
def test_point_and_rothc_csv_equal_the_reference(server, path, reference):
    expected = shared_path("data/flint-examples/reference", reference).read_text().splitlines()
    response = server.client.post(path)
    assert response.status_code == 200
    ignore = ("Started:", "Finished:")
    assert [line for line in response.text.splitlines() if not line.startswith(ignore)] == \
        [line for line in expected if not line.startswith(ignore)]


def test_ogc_flow_execute_async_poll_results(server):
    job_id = submit_async(server, "rothc", {})
    status = poll_job(server, job_id, lambda s: s["status"] in ("successful", "failed"), "the job")
    assert status["status"] == "successful"
    results = server.client.get(f"/jobs/{job_id}/results").json()
    stock = server.client.get(results["stock"]["href"])
    assert stock.text.startswith("OutputerStream")


def _upload_demo(client, title: str, tmp_path) -> None:
    """new -> upload upstream's demo as upstream's clients send it: no attribute tables (the
    service recognises the demo's rasters and uses its tables)."""
    assert client.post("/gcbm/new", data={"title": title}).status_code == 200
    upload = client.post("/gcbm/upload", data={"title": title},
                         files=multipart(demo_upload(tmp_path)))
    assert upload.status_code == 200, upload.text


def test_upstream_gcbm_demo_flow_gives_the_reference_results(server, tmp_path):
    client = server.client
    _upload_demo(client, "served", tmp_path)
    started = client.post("/gcbm/dynamic", data={"title": "served"})
    assert started.status_code == 200 and started.json()["status"] == "Run started"
    status = poll(lambda: client.post("/gcbm/status", data={"title": "served"}).json(),
                  lambda s: s["status"] in ("failed", "successful"), "the GCBM run")
    assert status["status"] == "successful", status
    download = client.post("/gcbm/download", data={"title": "served"})
    assert download.status_code == 200
    assert_reference_results(zipfile.ZipFile(io.BytesIO(download.content)))
    log = client.get(f"/jobs/{started.json()['job']}/logs").json()["lines"]
    assert any("demo's attribute tables for Classifier1, Classifier2" in line for line in log)


def test_worker_killed_mid_gcbm_run_reruns_it_with_identical_outputs(server, tmp_path):
    client = server.client
    _upload_demo(client, "crash", tmp_path)
    [simulation] = [s for s in client.get("/simulations").json() if s["title"] == "crash"]
    first = client.post(f"/simulations/{simulation['id']}/run")
    assert first.status_code in (200, 201, 202), first.text
    job_id = first.json()["jobID"] if "jobID" in first.json() else first.json()["id"]
    poll_job(server, job_id, lambda s: s["status"] == "running", "the GCBM run to start")
    # "running" is recorded when the job is claimed, its process id just after
    running = poll(lambda: server.repository().get(job_id), lambda job: job.pid, "its process")
    os.kill(int(running.worker_id.split("/")[1]), signal.SIGKILL)
    wait_until(lambda: not pid_alive(running.pid), "the job process to die with its worker", 10)
    status = poll_job(server, job_id, lambda s: s["status"] in ("successful", "failed"), "re-run")
    assert status["status"] == "successful" and status["attempts"] == 2, status
    rerun = _outputs(server, job_id)
    second = client.post(f"/simulations/{simulation['id']}/run").json()
    second_id = second["jobID"] if "jobID" in second else second["id"]
    poll_job(server, second_id, lambda s: s["status"] == "successful", "an uninterrupted run")
    assert rerun == _outputs(server, second_id)


def _outputs(server, job_id: str) -> dict[str, str]:
    """sha256 of every output of a job but its manifest (which records times)."""
    manifest = json.loads(next(server.data_dir.rglob(f"*{job_id}*/**/manifest.json")).read_text())
    return {entry["path"]: entry["sha256"] for entry in manifest["outputs"]}


def test_worker_killed_mid_run_job_is_rerun_with_identical_outputs(server):
    inputs = {"steps": 12, "delay_s": 0.1}
    reference_job = submit_async(server, "slow", inputs)
    poll_job(server, reference_job, lambda s: s["status"] == "successful", "the uninterrupted run")
    reference = server.client.get(f"/jobs/{reference_job}/results/stock").content

    job_id = submit_async(server, "slow", inputs)
    poll_job(server, job_id, lambda s: s["status"] == "running" and s["progress"] >= 25,
             "the run to be a quarter done")
    running = server.repository().get(job_id)
    worker_pid = int(running.worker_id.split("/")[1])
    job_pid = running.pid
    os.kill(worker_pid, signal.SIGKILL)

    wait_until(lambda: not pid_alive(job_pid), "the job process to die with its worker", timeout=10)
    status = poll_job(server, job_id, lambda s: s["status"] in ("successful", "failed"), "the re-run")
    assert status["status"] == "successful", status
    assert status["attempts"] == 2
    assert server.client.get(f"/jobs/{job_id}/results/stock").content == reference
    log = server.client.get(f"/jobs/{job_id}/logs").json()["lines"]
    assert any("re-queued after attempt 1 of 3" in line for line in log)


def test_dismiss_over_http_stops_the_process(server):
    job_id = submit_async(server, "slow", {"steps": 1000, "delay_s": 0.05})
    poll_job(server, job_id, lambda s: s["status"] == "running" and s["progress"] > 0, "the run")
    job_pid = server.repository().get(job_id).pid
    dismissed = server.client.delete(f"/jobs/{job_id}")
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    wait_until(lambda: not pid_alive(job_pid), "the job process to be killed", timeout=10)
    assert server.client.get(f"/jobs/{job_id}").json()["status"] == "dismissed"


def test_standalone_worker_runs_jobs_from_the_shared_database(tmp_path):
    """`flintcloud worker` against the data directory of a server (here: of an in-process one)."""
    from flintcloud.service.services import Services
    from flintcloud.settings import Settings

    settings = Settings(data_dir=tmp_path / "data")
    services = Services.build(settings)
    job, _ = services.jobs.submit("point", {}, owner="")
    command = [str(Path(sys.executable).parent / "flintcloud"), "worker",
               "--data-dir", str(settings.data_dir)]
    worker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        done = poll(lambda: services.jobs.repository.get(job.id), lambda j: j.status.is_final,
                    "the standalone worker")
        assert done.status == "successful" and done.worker_id.split("/")[1] == str(worker.pid)
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
        services.database.dispose()


def test_no_endpoint_answers_a_server_error(server, tmp_path):
    """Every operation of the OpenAPI document, called over HTTP with plausible arguments,
    answers something other than a 5xx (deleting ones last)."""
    client = server.client
    simulation = client.post("/simulations", json={"title": "sweep"}).json()["id"]
    job = submit_async(server, "point", {})
    poll_job(server, job, lambda s: s["status"] == "successful", "the job")
    values = {"job_id": job, "simulation_id": simulation, "process_id": "point", "output_id": "stock",
              "category": "classifiers", "name": "x.tiff", "path": "gcbm_output.db",
              "indicator": "NPP", "year": "2015", "arg": "all", "z": 3, "x": 1, "y": 2,
              "other": simulation, "other_year": "2014"}
    operations = [(method.upper(), path) for path, item in client.get("/openapi.json").json()["paths"].items()
                  for method in item]
    operations.sort(key=lambda operation: operation[0] == "DELETE")
    assert len(operations) >= 45
    for method, template in operations:
        path = template.format(**values)
        kwargs = {}
        if method in ("POST", "PATCH"):
            kwargs = {"json": {"inputs": {}, "title": "other", "simulation_name": "sweep", "tables": {}}} \
                if template in ("/processes/{process_id}/execution", "/simulations", "/config") or \
                method == "PATCH" else {"data": {"title": "sweep"}}
        response = client.request(method, path, **kwargs)
        assert response.status_code < 500, (method, path, response.text)


def test_serve_prints_the_ui_url_on_start(server):
    log = server.log_path.read_text()
    assert f"the web UI is at http://127.0.0.1:{server.port}/ui/" in log
