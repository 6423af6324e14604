"""The job store and the worker, without HTTP: lifecycle, claiming, heartbeats, orphans, retries."""

from __future__ import annotations

import json
import socket
import subprocess
import uuid
from datetime import timedelta

import pytest

from conftest import FakeClock, make_settings, postgresql_database
from flintcloud.service.errors import IdempotencyKeyReusedError
from flintcloud.service.jobs import TRANSITIONS, JobRepository, JobStatus, sources_of
from flintcloud.service.worker import Worker


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request, tmp_path):
    """The job store on SQLite and on PostgreSQL (a fresh database per test)."""
    if request.param == "sqlite":
        yield make_settings(tmp_path)
        return
    with postgresql_database() as url:
        yield make_settings(tmp_path, database_url=url)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def repository(services, clock):
    return JobRepository(services.database, clock)


def add(repository, process_id="point", **kwargs):
    job, _ = repository.add(process_id=process_id, owner="", inputs={}, max_attempts=2, **kwargs)
    return job


def test_lifecycle_final_states_have_no_way_out():
    assert all(not TRANSITIONS[status] for status in JobStatus if status.is_final)
    assert set(sources_of(JobStatus.DISMISSED)) == {"accepted", "running"}


def test_job_ids_are_random_uuid4(repository):
    ids = {add(repository).id for _ in range(20)}
    assert len(ids) == 20
    assert all(uuid.UUID(job_id).version == 4 for job_id in ids)


def test_claim_is_exclusive_and_oldest_first(repository, clock):
    first = add(repository)
    clock.advance(1)
    second = add(repository)
    claimed = repository.claim_next("worker-a")
    assert claimed.id == first.id and claimed.status is JobStatus.RUNNING and claimed.attempts == 1
    assert repository.claim_next("worker-b").id == second.id
    assert repository.claim_next("worker-c") is None


def test_heartbeat_fails_once_the_job_is_dismissed(repository):
    job = add(repository)
    claimed = repository.claim_next("worker-a")
    assert repository.heartbeat(claimed, progress=40, message="half way")
    assert repository.get(job.id).progress == 40
    repository.dismiss(job.id)
    assert not repository.heartbeat(claimed, progress=50)
    assert not repository.succeed(claimed, {})  # a dismissed job never turns successful
    assert repository.get(job.id).status is JobStatus.DISMISSED


def test_stale_running_job_is_requeued_then_failed_after_max_attempts(repository, clock):
    job = add(repository)
    timeout = timedelta(seconds=30)
    for attempt in (1, 2):
        claimed = repository.claim_next(f"elsewhere.example/{attempt}/w")  # another host
        assert claimed.attempts == attempt
        clock.advance(10)
        assert repository.requeue_orphans(timeout) == []  # heartbeat still fresh
        clock.advance(31)
        [changed] = repository.requeue_orphans(timeout)
        assert changed.id == job.id
        assert changed.status is (JobStatus.ACCEPTED if attempt == 1 else JobStatus.FAILED)
    assert changed.error_code == "worker_lost"
    assert "gave up after 2 attempt(s)" in changed.error_detail


def test_job_of_a_dead_local_worker_is_requeued_without_waiting(repository):
    job = add(repository)
    finished = subprocess.Popen(["true"])
    finished.wait()
    repository.claim_next(f"{socket.gethostname()}/{finished.pid}/dead")
    [changed] = repository.requeue_orphans(timedelta(hours=1))
    assert changed.id == job.id and changed.status is JobStatus.ACCEPTED
    assert "re-queued after attempt 1 of 2" in changed.message


def test_idempotency_key_replays_the_same_job_and_rejects_another_payload(services):
    jobs = services.jobs
    first, created = jobs.submit("point", {}, owner="", idempotency_key="key-1")
    again, created_again = jobs.submit("point", {}, owner="", idempotency_key="key-1")
    assert created and not created_again and again.id == first.id
    with pytest.raises(IdempotencyKeyReusedError):
        jobs.submit("point", {"config": {"x": 1}}, owner="", idempotency_key="key-1")
    other_owner, created_other = jobs.submit("point", {}, owner="bob", idempotency_key="key-1")
    assert created_other and other_owner.id != first.id  # keys are per owner


def test_an_idempotency_key_is_forgotten_after_its_lifetime(services, clock):
    repository = JobRepository(services.database, clock, key_lifetime=timedelta(hours=24))
    first = add(repository, idempotency=("key-1", "hash-a"))
    clock.advance(23 * 3600)
    assert add(repository, idempotency=("key-1", "hash-a")).id == first.id
    with pytest.raises(IdempotencyKeyReusedError):
        add(repository, idempotency=("key-1", "hash-b"))
    clock.advance(2 * 3600)  # 25 h after the first request
    assert repository.replay("", ("key-1", "hash-b")) is None
    renewed = add(repository, idempotency=("key-1", "hash-b"))
    assert renewed.id != first.id
    assert add(repository, idempotency=("key-1", "hash-b")).id == renewed.id


def test_worker_runs_point_and_records_outputs(services, worker):
    job, _ = services.jobs.submit("point", {}, owner="")
    done = worker.run_once()
    assert done.id == job.id and done.status is JobStatus.SUCCESSFUL and done.progress == 100
    assert set(done.outputs) == {"stock", "files"}
    stock = services.jobs.result_path(done, "stock").read_text()
    assert stock.startswith("OutputerStream")
    assert worker.run_once() is None


def test_worker_records_engine_errors_with_code_and_detail(services, worker):
    bad = {"config": {"LocalDomain": {"type": "spatial_tiled"}}}
    job, _ = services.jobs.submit("point", bad, owner="")
    done = worker.run_once()
    assert done.status is JobStatus.FAILED
    assert done.error_code == "invalid_config" and done.error_status == 422
    assert "is not a point run" in done.error_detail
    assert not services.storage.job_results_dir(job.id).exists()


def test_worker_shutdown_requeues_its_job_without_counting_the_attempt(services, settings):
    job, _ = services.jobs.submit("slow", {"steps": 50, "delay_s": 0.05}, owner="")
    worker = Worker(settings, database=services.database, registry=services.registry)
    worker.stop()  # asked to stop before its first heartbeat: it gives the job back at once
    worker.run_once()
    released = services.jobs.repository.get(job.id)
    assert released.status is JobStatus.ACCEPTED and released.attempts == 0
    assert "shutting down" in released.message


# -- one active run per simulation, enforced by the database -------------------------------------

def _at_once(function, n: int = 8) -> list:
    """`function()` in n threads released together; each one's result or exception."""
    import threading

    barrier = threading.Barrier(n)
    outcomes: list = [None] * n

    def call(index: int) -> None:
        barrier.wait(timeout=30)
        try:
            outcomes[index] = function()
        except Exception as err:  # noqa: BLE001 (the outcome under test)
            outcomes[index] = err

    threads = [threading.Thread(target=call, args=(index,)) for index in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_database_allows_one_active_job_per_simulation(repository):
    from flintcloud.errors import FlintError

    outcomes = _at_once(lambda: add(repository, "gcbm", simulation_id="s1"))
    started = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(started) == 1
    assert all(isinstance(err, FlintError) and err.http_status == 409 for err in refused), refused
    assert f"job {started[0].id}" in refused[0].message
    assert add(repository, "gcbm", simulation_id="s2")  # another simulation is independent
    repository.dismiss(started[0].id)
    assert add(repository, "gcbm", simulation_id="s1")  # once it ended, a new run may start


@pytest.fixture
def ready_simulation(client, tmp_path):
    from conftest import SMALL_ATTRIBUTES, small_project_files, zip_bytes

    files = small_project_files(tmp_path / "files")
    members = {f"{category}/{path.name}": path.read_bytes()
               for category, paths in files.items() for path in paths}
    members["attributes.json"] = json.dumps(SMALL_ATTRIBUTES).encode()
    assert client.post("/gcbm/new", data={"title": "race"}).status_code == 200
    simulation = next(s["id"] for s in client.get("/simulations").json() if s["title"] == "race")
    response = client.post(f"/simulations/{simulation}/files",
                           files=[("files", ("project.zip", zip_bytes(members)))])
    assert response.status_code == 200, response.text
    return simulation


@pytest.mark.parametrize("start", ["run", "dynamic"])
def test_concurrent_starts_of_one_simulation_make_exactly_one_job(client, services,
                                                                   ready_simulation, start):
    post = {"run": lambda: client.post(f"/simulations/{ready_simulation}/run"),
            "dynamic": lambda: client.post("/gcbm/dynamic", data={"title": "race"})}[start]
    responses = _at_once(post)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200 if start == "dynamic" else 201] + [409] * 7, \
        [response.text for response in responses]
    for response in responses:
        if response.status_code == 409:
            assert response.headers["content-type"] == "application/problem+json"
            assert "already running" in response.json()["detail"]
    jobs, total = services.jobs.list_jobs(owner=None, simulation_id=ready_simulation)
    assert total == 1
    assert len(list(services.storage.root.joinpath("jobs").iterdir())) == 1  # no stray snapshot


@pytest.mark.parametrize("max_attempts", [3, 1])
def test_a_job_process_killed_by_sigkill_is_retried_like_a_dead_workers(tmp_path, max_attempts):
    """One retry policy: SIGKILL of the job process (the OOM killer) re-queues the job while
    attempts remain (its progress reset, the killed attempt's folder removed), else fails it
    with worker_lost, as for a job whose worker died."""
    from flintcloud.service.services import Services

    settings = make_settings(tmp_path, extra_processes=["killed_process:KILLED"],
                             max_attempts=max_attempts)
    services = Services.build(settings)
    try:
        job, _ = services.jobs.submit("killed", {}, owner="")
        worker = Worker(settings, database=services.database, registry=services.registry)
        killed = worker.run_once()
        assert not services.storage.job_attempt_dir(job.id, 1).exists()
        if max_attempts == 1:
            assert killed.status is JobStatus.FAILED and killed.error_code == "worker_lost"
            assert "killed by signal 9" in killed.error_detail
            return
        assert killed.status is JobStatus.ACCEPTED and killed.attempts == 1
        assert killed.progress == 0
        assert killed.message.startswith("re-queued after attempt 1 of 3: the job process was "
                                         "killed by signal 9")
        done = worker.run_once()
        assert done.status is JobStatus.SUCCESSFUL and done.attempts == 2
        _, log = services.jobs.log(job.id, owner=None)
        assert any("re-queued after attempt 1" in line for line in log)
    finally:
        services.database.dispose()
