"""Jobs: the lifecycle, the repository (every SQL statement about jobs) and the job service.

Every state change is a conditional UPDATE (`... WHERE status = <expected> [AND worker_id = me]`),
so two workers can never both claim a job, and a worker that lost its job (dismissed, re-queued
after it was presumed dead) can never overwrite what happened since. This is plain SQL that SQLite
and PostgreSQL run the same way.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import CursorResult, Result, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from flintcloud.errors import InputError, NotFoundError
from flintcloud.service.db import Database, IdempotencyKeyRow, JobRow, utc_now
from flintcloud.service.errors import (
    ConflictError,
    ForbiddenError,
    IdempotencyKeyReusedError,
    JobFailedError,
    NoSuchJobError,
    ResultNotReadyError,
)
from flintcloud.service.storage import Storage

Clock = Callable[[], datetime]
JOBS = JobRow.__table__


def _rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched (its result is a CursorResult)."""
    assert isinstance(result, CursorResult)
    return result.rowcount


class JobStatus(StrEnum):
    """OGC API - Processes statusCode values."""

    ACCEPTED = "accepted"
    RUNNING = "running"
    SUCCESSFUL = "successful"
    FAILED = "failed"
    DISMISSED = "dismissed"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.SUCCESSFUL, JobStatus.FAILED, JobStatus.DISMISSED)


# The whole lifecycle. running -> accepted is a re-queue after the worker died.
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.ACCEPTED: frozenset({JobStatus.RUNNING, JobStatus.DISMISSED, JobStatus.FAILED}),
    JobStatus.RUNNING: frozenset({JobStatus.SUCCESSFUL, JobStatus.FAILED, JobStatus.DISMISSED,
                                  JobStatus.ACCEPTED}),
    JobStatus.SUCCESSFUL: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.DISMISSED: frozenset(),
}


def sources_of(target: JobStatus) -> list[str]:
    """The states a job may move to `target` from: the WHERE clause of each transition."""
    return [str(source) for source, targets in TRANSITIONS.items() if target in targets]


@dataclass(frozen=True)
class Job:
    """A job as the rest of the service sees it (a typed copy of its row)."""

    id: str
    process_id: str
    owner: str
    status: JobStatus
    inputs: dict
    simulation_id: str | None
    progress: int
    message: str
    created: datetime
    updated: datetime
    started: datetime | None
    finished: datetime | None
    attempts: int
    max_attempts: int
    worker_id: str | None
    heartbeat_at: datetime | None
    pid: int | None
    error_code: str | None
    error_status: int | None
    error_detail: str | None
    outputs: dict | None

    @classmethod
    def from_row(cls, row: JobRow) -> Job:
        return cls.from_mapping({name: getattr(row, name) for name in cls.__dataclass_fields__})

    @classmethod
    def from_mapping(cls, row) -> Job:
        values = {name: row[name] for name in cls.__dataclass_fields__}
        values["status"] = JobStatus(values["status"])
        return cls(**values)


@dataclass(frozen=True)
class JobFailure:
    code: str
    status: int
    detail: str


def new_job_id() -> str:
    """uuid4: 122 random bits, so a job id cannot be guessed from another one."""
    return str(uuid.uuid4())


def is_job_id(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def make_worker_id() -> str:
    """host/pid/random: the host and pid let a restarted server see that a worker is gone."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


def _worker_is_gone(worker_id: str | None) -> bool:
    """True only when the worker ran on this host and its process no longer exists."""
    if not worker_id:
        return True
    host, _, rest = worker_id.partition("/")
    pid_text = rest.partition("/")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine: only its heartbeat can tell
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class JobRepository:
    """All reads and writes of job rows."""

    def __init__(self, database: Database, clock: Clock = utc_now, *,
                 key_lifetime: timedelta = timedelta(hours=24)) -> None:
        """`key_lifetime`: how long an Idempotency-Key is remembered; after it, the key names a
        new request (the IETF draft lets servers expire keys; 24 h is the usual choice)."""
        self.db = database
        self.clock = clock
        self.key_lifetime = key_lifetime

    # -- create and read -----------------------------------------------------------------------
    def add(self, *, process_id: str, owner: str, inputs: dict, max_attempts: int,
            simulation_id: str | None = None, idempotency: tuple[str, str] | None = None,
            job_id: str | None = None) -> tuple[Job, bool]:
        """Insert an accepted job; with `idempotency` = (key, request hash), a replay of the same key
        returns the job of the first request instead. Returns (job, created)."""
        now = self.clock()
        row = JobRow(id=job_id or new_job_id(), process_id=process_id, owner=owner,
                     status=JobStatus.ACCEPTED, inputs=inputs, simulation_id=simulation_id,
                     progress=0, message="accepted", created=now, updated=now, attempts=0,
                     max_attempts=max_attempts)
        try:
            with self.db.session.begin() as session:
                session.add(row)
                if idempotency is not None:
                    # expired keys go (all of them: the table holds a day of keys at most)
                    session.execute(delete(IdempotencyKeyRow).where(
                        IdempotencyKeyRow.created < now - self.key_lifetime))
                    session.flush()  # the job row must exist before the key that points to it
                    key, request_hash = idempotency
                    session.add(IdempotencyKeyRow(owner=owner, key=key, request_hash=request_hash,
                                                  job_id=row.id, created=now))
            return Job.from_row(row), True
        except IntegrityError:
            if idempotency is None and simulation_id is None:
                raise
        if idempotency is not None:
            # The key exists: this is a replay (or a concurrent twin) of an earlier request.
            job = self.replay(owner, idempotency)
            if job is not None:
                return job, False
        if simulation_id is not None:
            active = self.active_for_simulation(simulation_id)
            if active is not None:  # the database's unique index refused a second active run
                raise ConflictError(f"simulation {simulation_id} is already running (job {active.id})",
                                    hint="poll that job, or dismiss it before starting another run")
        if idempotency is not None:  # the first job was deleted meanwhile: nothing to replay
            raise ConflictError(f"the job created with Idempotency-Key {idempotency[0]!r} was deleted")
        raise ConflictError("another run of this simulation started and ended meanwhile; retry",
                            hint="start the run again")

    def active_for_simulation(self, simulation_id: str) -> Job | None:
        """The simulation's queued or running job, if any (there is one at most)."""
        with self.db.session() as session:
            row = session.scalars(select(JobRow).where(
                JobRow.simulation_id == simulation_id,
                JobRow.status.in_([JobStatus.ACCEPTED, JobStatus.RUNNING])).limit(1)).first()
            return Job.from_row(row) if row else None

    def replay(self, owner: str, idempotency: tuple[str, str]) -> Job | None:
        """The job an earlier request with this (key, request hash) created, if any; the same
        key with another request hash is a 422."""
        key, request_hash = idempotency
        with self.db.session() as session:
            existing = session.get(IdempotencyKeyRow, (owner, key))
            if existing is None or existing.created < self.clock() - self.key_lifetime:
                return None
            if existing.request_hash != request_hash:
                raise IdempotencyKeyReusedError(
                    f"Idempotency-Key {key!r} was already used for a different request",
                    field="Idempotency-Key", hint="use a new key for a new request")
            row = session.get(JobRow, existing.job_id)
            return Job.from_row(row) if row else None

    def get(self, job_id: str) -> Job | None:
        if not is_job_id(job_id):
            return None
        # Core, not the ORM: this is the read clients poll, and it is twice as fast this way.
        with self.db.engine.connect() as connection:
            row = connection.execute(select(JOBS).where(JOBS.c.id == job_id)).mappings().first()
        return Job.from_mapping(row) if row else None

    def list_jobs(self, *, owner: str | None, statuses: list[str] | None = None,
                  process_ids: list[str] | None = None, simulation_id: str | None = None,
                  limit: int = 20, offset: int = 0) -> tuple[list[Job], int]:
        """Newest first; `owner=None` means every owner. Returns (page, total matched)."""
        query = select(JobRow)
        if owner is not None:
            query = query.where(JobRow.owner == owner)
        if statuses:
            query = query.where(JobRow.status.in_(statuses))
        if process_ids:
            query = query.where(JobRow.process_id.in_(process_ids))
        if simulation_id is not None:
            query = query.where(JobRow.simulation_id == simulation_id)
        with self.db.session() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            rows = session.scalars(query.order_by(JobRow.created.desc(), JobRow.id)
                                   .limit(limit).offset(offset)).all()
            return [Job.from_row(row) for row in rows], int(total or 0)

    def counts(self) -> dict[tuple[str, str], int]:
        """Jobs in the database by (process id, status): one GROUP BY, for /metrics."""
        query = (select(JobRow.process_id, JobRow.status, func.count())
                 .group_by(JobRow.process_id, JobRow.status))
        with self.db.session() as session:
            return {(str(process), str(status)): int(count)
                    for process, status, count in session.execute(query)}

    # -- worker side ----------------------------------------------------------------------------
    def claim_next(self, worker_id: str) -> Job | None:
        """Atomically move the oldest accepted job to running for this worker."""
        for _ in range(20):  # another worker may win the race for a candidate: try the next one
            with self.db.session() as session:
                candidate = session.scalar(
                    select(JobRow.id).where(JobRow.status == JobStatus.ACCEPTED)
                    .order_by(JobRow.created, JobRow.id).limit(1))
            if candidate is None:
                return None
            now = self.clock()
            with self.db.session.begin() as session:
                claimed = _rowcount(session.execute(
                    update(JobRow)
                    .where(JobRow.id == candidate, JobRow.status == JobStatus.ACCEPTED)
                    .values(status=JobStatus.RUNNING, worker_id=worker_id, heartbeat_at=now,
                            started=now, updated=now, attempts=JobRow.attempts + 1, pid=None,
                            message="running")
                ))
            if claimed == 1:
                return self.get(candidate)
        return None

    def _update_owned(self, job: Job, **values: Any) -> bool:
        """Update a job only while this worker still runs this attempt of it."""
        values.setdefault("updated", self.clock())
        with self.db.session.begin() as session:
            return _rowcount(session.execute(
                update(JobRow)
                .where(JobRow.id == job.id, JobRow.status == JobStatus.RUNNING,
                       JobRow.worker_id == job.worker_id, JobRow.attempts == job.attempts)
                .values(**values)
            )) == 1

    def heartbeat(self, job: Job, *, progress: int | None = None, message: str | None = None,
                  pid: int | None = None) -> bool:
        """Record that the worker is alive (and the progress); False: the job is no longer ours."""
        now = self.clock()
        values: dict[str, Any] = {"heartbeat_at": now, "updated": now}
        if progress is not None:
            values["progress"] = max(0, min(100, int(progress)))
        if message is not None:
            values["message"] = message
        if pid is not None:
            values["pid"] = pid
        return self._update_owned(job, **values)

    def succeed(self, job: Job, outputs: dict) -> bool:
        now = self.clock()
        return self._update_owned(job, status=JobStatus.SUCCESSFUL, progress=100, outputs=outputs,
                                  finished=now, message="successful", pid=None)

    def fail(self, job: Job, failure: JobFailure) -> bool:
        return self._update_owned(job, status=JobStatus.FAILED, finished=self.clock(),
                                  error_code=failure.code, error_status=failure.status,
                                  error_detail=failure.detail, message=f"failed: {failure.detail}",
                                  pid=None)

    def release(self, job: Job, reason: str) -> bool:
        """Give a job back to the queue (worker shutting down); the attempt is not counted."""
        return self._update_owned(job, status=JobStatus.ACCEPTED, worker_id=None, pid=None,
                                  attempts=JobRow.attempts - 1, progress=0,
                                  message=f"re-queued: {reason}")

    def retry(self, job: Job, why: str) -> bool:
        """The job's process was killed (SIGKILL: the OOM killer, an operator): re-queued while
        attempts remain, else failed, as an orphan of a dead worker is."""
        return self._update_owned(job, **_retry_values(job, why, self.clock()))

    def requeue_orphans(self, timeout: timedelta) -> list[Job]:
        """Running jobs whose worker is gone (stale heartbeat, or a dead process on this host):
        back to accepted while attempts remain, else failed. Returns the jobs changed."""
        now = self.clock()
        with self.db.session() as session:
            running = [Job.from_row(row) for row in session.scalars(
                select(JobRow).where(JobRow.status == JobStatus.RUNNING))]
        changed = []
        for job in running:
            stale = job.heartbeat_at is None or now - job.heartbeat_at > timeout
            if not stale and not _worker_is_gone(job.worker_id):
                continue
            why = (f"worker {job.worker_id} stopped (no heartbeat for "
                   f"{timeout.total_seconds():g} s)") if stale else f"worker {job.worker_id} died"
            values = _retry_values(job, why, now)
            with self.db.session.begin() as session:
                done = _rowcount(session.execute(
                    update(JobRow)
                    .where(JobRow.id == job.id, JobRow.status == JobStatus.RUNNING,
                           JobRow.worker_id == job.worker_id, JobRow.attempts == job.attempts)
                    .values(updated=now, **values)
                ))
            if done and (updated := self.get(job.id)) is not None:
                changed.append(updated)
        return changed

    # -- client side ----------------------------------------------------------------------------
    def dismiss(self, job_id: str) -> Job | None:
        """accepted/running -> dismissed; the worker running it sees this and kills the work."""
        now = self.clock()
        with self.db.session.begin() as session:
            session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status.in_(sources_of(JobStatus.DISMISSED)))
                .values(status=JobStatus.DISMISSED, finished=now, updated=now,
                        message="dismissed; its process is being stopped"))
        return self.get(job_id)

    def set_message(self, job_id: str, message: str) -> None:
        with self.db.session.begin() as session:
            session.execute(update(JobRow).where(JobRow.id == job_id)
                            .values(message=message, updated=self.clock()))

    def delete(self, job_id: str) -> None:
        with self.db.session.begin() as session:
            session.execute(delete(IdempotencyKeyRow).where(IdempotencyKeyRow.job_id == job_id))
            session.execute(delete(JobRow).where(JobRow.id == job_id))


def _retry_values(job: Job, why: str, now: datetime) -> dict[str, Any]:
    """The one retry policy, for an orphan (its worker died) and a killed job process: back
    to accepted with its progress reset while attempts remain, else failed (`worker_lost`)."""
    if job.attempts < job.max_attempts:
        return {"status": JobStatus.ACCEPTED, "worker_id": None, "pid": None, "progress": 0,
                "message": f"re-queued after attempt {job.attempts} of {job.max_attempts}: {why}"}
    detail = f"{why}; gave up after {job.attempts} attempt(s)"
    return {"status": JobStatus.FAILED, "finished": now, "pid": None, "error_code": "worker_lost",
            "error_status": 500, "error_detail": detail, "message": f"failed: {detail}"}


def request_hash(payload: Any) -> str:
    """A stable digest of a request: canonical JSON (sorted keys), sha256."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def validate_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise InputError("must be 1 to 255 printable characters", field="Idempotency-Key")
    return key


class JobService:
    """What clients may do with jobs: submit, read, list, dismiss, fetch results and logs."""

    def __init__(self, repository: JobRepository, storage: Storage, *, max_attempts: int) -> None:
        self.repository = repository
        self.storage = storage
        self.max_attempts = max_attempts

    def submit(self, process_id: str, inputs: dict, *, owner: str,
               idempotency_key: str | None = None, simulation_id: str | None = None,
               prepare: Callable[[Path], None] | None = None,
               check: Callable[[], None] | None = None) -> tuple[Job, bool]:
        """Queue a job. `check()` refuses inputs that cannot run (raising), `prepare(dir)` writes
        the job's input files (snapshot) before it is queued; on a replay of an idempotent
        request neither runs again. Returns (job, created)."""
        key = validate_idempotency_key(idempotency_key)
        idempotency = None
        if key is not None:
            idempotency = (key, request_hash({"process": process_id, "inputs": inputs}))
            replay = self.repository.replay(owner, idempotency)
            if replay is not None:
                return replay, False
        if check is not None:
            check()
        job_id = new_job_id()
        if prepare is not None:
            staging = self.storage.new_staging_dir()
            try:
                prepare(staging)
                self.storage.job_dir(job_id).mkdir(parents=True, exist_ok=True)
                staging.replace(self.storage.job_inputs_dir(job_id))
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                shutil.rmtree(self.storage.job_dir(job_id), ignore_errors=True)
                raise
        try:
            job, created = self.repository.add(
                process_id=process_id, owner=owner, inputs=inputs, max_attempts=self.max_attempts,
                simulation_id=simulation_id, idempotency=idempotency, job_id=job_id)
        except BaseException:
            shutil.rmtree(self.storage.job_dir(job_id), ignore_errors=True)
            raise
        if not created:  # lost a race with a twin request: drop what we prepared
            shutil.rmtree(self.storage.job_dir(job_id), ignore_errors=True)
        return job, created

    def counts(self) -> dict[tuple[str, str], int]:
        """Jobs by (process id, status), every owner's (for /metrics)."""
        return self.repository.counts()

    def get(self, job_id: str, *, owner: str | None) -> Job:
        """The job, if `owner` may see it (`owner=None`: auth is off, everyone sees everything)."""
        job = self.repository.get(job_id)
        if job is None:
            raise NoSuchJobError(f"no job {job_id!r}")
        if owner is not None and job.owner != owner:
            raise ForbiddenError(f"job {job_id!r} belongs to another user")
        return job

    def list_jobs(self, *, owner: str | None, statuses: list[str] | None = None,
                  process_ids: list[str] | None = None, simulation_id: str | None = None,
                  limit: int = 20, offset: int = 0) -> tuple[list[Job], int]:
        """Newest first; `owner=None` means every owner. Returns (page, total matched)."""
        return self.repository.list_jobs(owner=owner, statuses=statuses, process_ids=process_ids,
                                         simulation_id=simulation_id, limit=limit, offset=offset)

    def dismiss(self, job_id: str, *, owner: str | None) -> Job:
        """OGC dismiss: a queued or running job becomes dismissed (its process is killed by its
        worker); a finished job is deleted with its files."""
        job = self.get(job_id, owner=owner)
        if job.status.is_final:
            self.repository.delete(job.id)
            shutil.rmtree(self.storage.job_dir(job.id), ignore_errors=True)
            return job
        dismissed = self.repository.dismiss(job.id)
        if dismissed is None or dismissed.status is not JobStatus.DISMISSED:
            raise ConflictError(f"job {job_id!r} finished before it could be dismissed")
        return dismissed

    def results(self, job_id: str, *, owner: str | None) -> Job:
        """The job if its results exist; otherwise the OGC error for its state."""
        job = self.get(job_id, owner=owner)
        if job.status is JobStatus.SUCCESSFUL:
            return job
        if job.status is JobStatus.FAILED:
            raise JobFailedError(job.error_detail or "the job failed",
                                 code=job.error_code or "internal", status=job.error_status or 500)
        if job.status is JobStatus.DISMISSED:
            raise NoSuchJobError(f"job {job_id!r} was dismissed; it has no results")
        raise ResultNotReadyError(f"job {job_id!r} is {job.status}; its results are not ready",
                                  hint="poll the job until its status is successful")

    def result_path(self, job: Job, output_id: str) -> Path:
        """The file or directory of one output of a successful job."""
        entry = (job.outputs or {}).get(output_id)
        if not isinstance(entry, dict) or "path" not in entry:
            raise NotFoundError(f"job {job.id!r} has no output {output_id!r}",
                                hint=f"outputs: {', '.join(sorted(job.outputs or {})) or 'none'}")
        return self.storage.resolve_inside(self.storage.job_results_dir(job.id), entry["path"])

    def log(self, job_id: str, *, owner: str | None) -> tuple[Job, list[str]]:
        job = self.get(job_id, owner=owner)
        path = self.storage.job_log(job.id)
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines() \
            if path.exists() else []
        return job, lines
