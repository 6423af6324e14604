"""Workers: processes that claim jobs from the database and run each in a child process.

A worker is single-threaded. For each job it starts a *job process* (its own process group, killed
with the worker if the worker dies) and a *guardian* that kills that whole group (whatever the job
started: a process pool, a writer, a subprocess) as soon as the worker lets go of the job or
dies, then loops: read progress from the job process's pipe,
record a heartbeat with the progress, and stop the job process the moment the job is no longer
this worker's (dismissed by a client, or re-queued because this worker was presumed dead).
Outputs become visible only when the attempt succeeded: its directory is renamed to `results/`.

`Worker.run_once()` does one claim-and-run synchronously, which is what the tests call.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext, ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from flintcloud.errors import CancelledError, FlintError
from flintcloud.service.db import Database, open_database, utc_now
from flintcloud.service.errors import NoSuchProcessError
from flintcloud.service.job_settings import enter_job_process
from flintcloud.service.jobs import Clock, Job, JobFailure, JobRepository, make_worker_id
from flintcloud.service.processes import Executor, ProcessRegistry, build_registry
from flintcloud.service.storage import Storage
from flintcloud.settings import Settings

logger = logging.getLogger(__name__)


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies, so that a job process
    never outlives a worker killed with -9 (its job is then re-run elsewhere)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _job_process_main(executor: Executor, inputs: dict, work_dir: str, connection,
                      parent_pid: int, settings: Settings | None = None) -> None:
    """Entry point of a job process: run the executor, send ("done", outputs) or ("error", …)."""
    os.setpgid(0, 0)  # its own process group, so the worker can kill everything it started
    die_with_parent()
    if os.getppid() != parent_pid:  # the worker died before prctl took effect
        os._exit(1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if settings is not None:
        enter_job_process(settings)

    def progress(percent: float, message: str = "") -> None:
        connection.send(("progress", float(percent), str(message)))

    def cancel_check() -> None:
        if os.getppid() != parent_pid:
            raise CancelledError("the worker running this job is gone")

    try:
        outputs = executor(inputs, Path(work_dir), progress, cancel_check)
        connection.send(("done", {str(key): str(value) for key, value in outputs.items()}))
    except FlintError as err:
        connection.send(("error", err.code, err.http_status, err.message))
    except BaseException as err:  # the job's error boundary: log the traceback, report the message
        logger.exception("job process failed")
        connection.send(("error", "internal", 500, f"unexpected error: {type(err).__name__}: {err}"))
    finally:
        connection.close()


# The guardian: blocks reading its stdin, a pipe only the worker holds; at EOF (the worker closed
# it, or died and the kernel closed it) it kills the job's process group. It ignores the signals
# a terminal or `serve` sends to the worker's group, so that it outlives the worker to do this.
# A bare interpreter (-I -S: no site, no flintcloud) starts in ~15 ms.
_GUARDIAN_SCRIPT = """
import os, signal, sys
for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(number, signal.SIG_IGN)
while sys.stdin.buffer.read(4096):
    pass
try:
    os.killpg(int(sys.argv[1]), signal.SIGKILL)
except OSError:
    pass
"""


def start_guardian(process_group: int) -> subprocess.Popen:
    """A guardian of `process_group` (see _GUARDIAN_SCRIPT); `release_guardian` ends it."""
    return subprocess.Popen([sys.executable, "-I", "-S", "-c", _GUARDIAN_SCRIPT,
                             str(process_group)], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)


def release_guardian(guardian: subprocess.Popen, timeout: float = 10.0) -> None:
    """Let the guardian kill what is left of the job's process group, and wait for it."""
    with contextlib.suppress(OSError):
        if guardian.stdin is not None:
            guardian.stdin.close()
    try:
        guardian.wait(timeout)
    except subprocess.TimeoutExpired:
        guardian.kill()
        guardian.wait()


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


def _start_context(method: str) -> ForkContext | SpawnContext | ForkServerContext:
    """The multiprocessing context of a start method ("fork", "spawn" or "forkserver")."""
    context = multiprocessing.get_context(method)
    assert isinstance(context, ForkContext | SpawnContext | ForkServerContext)
    return context


class Worker:
    def __init__(self, settings: Settings, *, database: Database | None = None,
                 registry: ProcessRegistry | None = None, clock: Clock = utc_now,
                 worker_id: str | None = None) -> None:
        self.settings = settings
        self.database = database or open_database(settings)
        self.repository = JobRepository(self.database, clock)
        self.storage = Storage(settings.resolved_storage_dir).ensure()
        self.registry = registry or build_registry(settings.extra_processes)
        self.worker_id = worker_id or make_worker_id()
        self.context = _start_context(settings.job_start_method)
        self._stopping = threading.Event()

    # -- the loop -------------------------------------------------------------------------------
    def reap(self) -> list[Job]:
        """Re-queue (or fail) running jobs whose worker is gone."""
        timeout = timedelta(seconds=self.settings.heartbeat_timeout_s)
        changed = self.repository.requeue_orphans(timeout)
        for job in changed:
            self.storage.append_log(job.id, job.message)
        return changed

    def run_once(self) -> Job | None:
        """Reap orphans, claim the oldest accepted job and run it to the end; None if none."""
        self.reap()
        job = self.repository.claim_next(self.worker_id)
        if job is None:
            return None
        self._run(job)
        return self.repository.get(job.id)

    def run_forever(self) -> None:
        """Claim and run jobs until `stop()` (a SIGTERM handler, or another thread)."""
        logger.info("worker %s started", self.worker_id)
        while not self._stopping.is_set():
            try:
                if self.run_once() is None:
                    self._stopping.wait(self.settings.poll_interval_s)
            except Exception:  # the worker's error boundary: a broken job must not stop it
                logger.exception("worker %s: error while running a job", self.worker_id)
                self._stopping.wait(self.settings.poll_interval_s)
        logger.info("worker %s stopped", self.worker_id)

    def stop(self) -> None:
        self._stopping.set()

    # -- one job --------------------------------------------------------------------------------
    def _run(self, job: Job) -> None:
        log = self.storage.append_log
        log(job.id, f"attempt {job.attempts} of {job.max_attempts} started by worker {self.worker_id}")
        try:
            definition = self.registry.get(job.process_id)
        except NoSuchProcessError as err:
            self._fail(job, JobFailure(err.code, err.http_status, err.message))
            return
        work_dir = self.storage.job_attempt_dir(job.id, job.attempts)
        # Earlier attempts' folders (a killed process's, a dead worker's) go before this one.
        for attempt in range(1, job.attempts + 1):
            shutil.rmtree(self.storage.job_attempt_dir(job.id, attempt), ignore_errors=True)
        work_dir.mkdir(parents=True)
        inputs_dir = self.storage.job_inputs_dir(job.id)
        if inputs_dir.is_dir():  # hard links: the snapshot is shared, not copied, per attempt
            shutil.copytree(inputs_dir, work_dir / "inputs", copy_function=_link_or_copy)

        receiver, sender = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=_job_process_main, name=f"flintcloud-job-{job.id}",
            args=(definition.executor, job.inputs, str(work_dir), sender, os.getpid(),
                  self.settings))
        process.start()
        assert process.pid is not None
        with contextlib.suppress(OSError):  # the child does it too: whichever runs first
            os.setpgid(process.pid, process.pid)
        # Started after the job process, so that no process of the job holds the guardian's pipe.
        guardian = start_guardian(process.pid)
        sender.close()
        try:
            outcome = self._supervise(job, process, receiver)
        finally:  # the job process has ended or was killed: nothing it started may outlive it
            release_guardian(guardian)
        receiver.close()
        if outcome is None:  # the job was taken away from us: the process is already dead
            shutil.rmtree(work_dir, ignore_errors=True)
            return
        if outcome[0] == "done":
            self._succeed(job, definition, work_dir, outcome[1])
        elif outcome[0] == "error":
            _, code, status, detail = outcome
            self._fail(job, JobFailure(code, status, detail))
        elif outcome[0] == "killed":  # e.g. the OOM killer: retried like a dead worker's job
            if self.repository.retry(job, outcome[1]):
                current = self.repository.get(job.id)
                self.storage.append_log(job.id, current.message if current else outcome[1])
        else:
            self._fail(job, JobFailure("process_died", 500, outcome[1]))
        if outcome[0] != "done":
            shutil.rmtree(work_dir, ignore_errors=True)

    def _supervise(self, job: Job, process: BaseProcess,
                   receiver: Connection) -> tuple[Any, ...] | None:
        """Relay progress and heartbeats until the job process ends; None if the job stopped
        being ours (then the process has been killed)."""
        interval = self.settings.heartbeat_interval_s
        if not self.repository.heartbeat(job, pid=process.pid):
            self._kill(process)
            self._lost(job)
            return None
        outcome = None
        percent, message, logged = 0.0, "running", ""
        next_beat = time.monotonic() + interval
        while True:
            multiprocessing.connection.wait([receiver, process.sentinel],
                                            timeout=max(0.0, next_beat - time.monotonic()))
            with contextlib.suppress(EOFError, OSError):
                while receiver.poll():
                    item = receiver.recv()
                    if item[0] == "progress":
                        percent, message = item[1], item[2] or message
                    else:
                        outcome = item
            if not process.is_alive():
                process.join()
                if message != logged:  # the last progress report, however fast the job was
                    self.storage.append_log(job.id, f"{percent:.0f}% {message}")
                break
            if self._stopping.is_set():
                self._kill(process)
                self.repository.release(job, f"worker {self.worker_id} is shutting down")
                self.storage.append_log(job.id, "worker shutting down: job re-queued")
                return None
            if time.monotonic() >= next_beat:
                if not self.repository.heartbeat(job, progress=int(percent), message=message):
                    self._kill(process)
                    self._lost(job)
                    return None
                if message != logged:
                    self.storage.append_log(job.id, f"{percent:.0f}% {message}")
                    logged = message
                next_beat = time.monotonic() + interval
        if outcome is None:
            code = process.exitcode
            how = f"was killed by signal {-code}" if code and code < 0 else f"exited with code {code}"
            outcome = ("killed" if code == -signal.SIGKILL else "died",
                       f"the job process {how} without a result")
        return outcome

    def _lost(self, job: Job) -> None:
        current = self.repository.get(job.id)
        status = current.status if current else "deleted"
        self.storage.append_log(job.id, f"job is {status}: its process was killed")
        if current is not None and current.status == "dismissed":
            self.repository.set_message(job.id, "dismissed; its process was stopped")
        return None

    @staticmethod
    def _kill(process: BaseProcess) -> None:
        if process.pid is not None:  # started: the job process leads its own process group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.join(timeout=10)

    def _succeed(self, job: Job, definition, work_dir: Path, outputs: dict[str, str]) -> None:
        documented = {}
        for output_id, relative in outputs.items():
            spec = definition.outputs.get(output_id)
            try:
                self.storage.resolve_inside(work_dir, relative)
            except FlintError as err:
                self._fail(job, JobFailure("invalid_output", 500,
                                           f"output {output_id!r}: {err.message}"))
                return
            documented[output_id] = {"path": relative,
                                     "type": spec.media_type if spec else "application/octet-stream",
                                     "title": spec.title if spec else output_id}
        results = self.storage.job_results_dir(job.id)
        shutil.rmtree(results, ignore_errors=True)
        work_dir.replace(results)
        if self.repository.succeed(job, documented):
            self.storage.append_log(job.id, "successful")
        else:  # dismissed while finishing: its results must not appear
            shutil.rmtree(results, ignore_errors=True)
            self._lost(job)

    def _fail(self, job: Job, failure: JobFailure) -> None:
        if self.repository.fail(job, failure):
            self.storage.append_log(job.id, f"failed ({failure.code}): {failure.detail}")


def run_worker(settings: Settings) -> None:
    """Entry point of a worker process started by `flintcloud serve` (dies with it)."""
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches serve, which stops us cleanly
    if settings.worker_niceness and hasattr(os, "nice"):
        # Jobs take whatever CPU the HTTP server leaves: status polls stay fast under load.
        os.nice(settings.worker_niceness)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    worker = Worker(settings)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    worker.run_forever()


class WorkerPool:
    """N worker processes kept alive by a supervisor thread (a dead worker is replaced)."""

    def __init__(self, settings: Settings, size: int) -> None:
        self.settings = settings
        self.size = size
        # spawn: workers start from a clean interpreter, never from a threaded server's memory
        self.context = multiprocessing.get_context("spawn")
        self.processes: list = []
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def _start_one(self):
        process = self.context.Process(target=run_worker, args=(self.settings,),
                                       name="flintcloud-worker", daemon=False)
        process.start()
        return process

    def start(self) -> WorkerPool:
        for _ in range(self.size):  # one by one: if a start fails, stop() still sees the others
            self.processes.append(self._start_one())
        self._thread = threading.Thread(target=self._supervise, name="worker-pool", daemon=True)
        self._thread.start()
        return self

    def _supervise(self) -> None:
        while not self._stopping.wait(1.0):
            for index, process in enumerate(self.processes):
                if not process.is_alive() and not self._stopping.is_set():
                    logger.warning("worker process %s exited (%s); starting another",
                                   process.pid, process.exitcode)
                    process.join()
                    self.processes[index] = self._start_one()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: the worker re-queues its job and exits
        deadline = time.monotonic() + timeout
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
