"""Running the service: `serve` (HTTP server plus its worker pool) and a standalone worker."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from contextlib import asynccontextmanager
from datetime import timedelta

import anyio

from flintcloud.service.app import create_app
from flintcloud.service.jobs import Job
from flintcloud.service.services import Services
from flintcloud.service.worker import Worker, WorkerPool
from flintcloud.settings import Settings

logger = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    """Serve HTTP on settings.host:port with `settings.workers` worker processes beside it."""
    import uvicorn

    services = Services.build(settings)
    orphans = recover_orphans(services)
    if orphans:
        logger.warning("re-queued or failed %d orphaned job(s)", len(orphans))

    @asynccontextmanager
    async def worker_pool(_app):
        # Started and stopped by the app's lifespan, so a SIGTERM (which uvicorn turns into a
        # graceful shutdown, then re-raises) still stops the workers, which re-queue their jobs.
        pool = WorkerPool(settings, settings.workers) if settings.workers else None
        try:
            if pool is not None:
                pool.start()
            print(ui_message(settings.host, settings.port), file=sys.stderr, flush=True)
            yield
        finally:
            if pool is not None:
                await anyio.to_thread.run_sync(pool.stop)

    uvicorn.run(create_app(settings, services=services, lifespan=worker_pool), host=settings.host,
                port=settings.port, log_level="info", access_log=False)


def ui_message(host: str, port: int) -> str:
    """What `serve` prints on start: where the web UI and the API documentation are."""
    everywhere = host in ("0.0.0.0", "::", "")
    shown = "127.0.0.1" if everywhere else (f"[{host}]" if ":" in host else host)
    base = f"http://{shown}:{port}"
    where = " (listening on every interface)" if everywhere else ""
    return f"FLINT Cloud: the web UI is at {base}/ui/ and the API documentation at {base}/docs{where}"


def recover_orphans(services: Services) -> list[Job]:
    """At start-up: jobs left running by workers that are gone (the previous server's, on this
    host, at once; others once their heartbeat is stale) are re-queued, or failed after their
    last attempt."""
    timeout = timedelta(seconds=services.settings.heartbeat_timeout_s)
    orphans = services.jobs.repository.requeue_orphans(timeout)
    for job in orphans:
        services.storage.append_log(job.id, job.message)
    return orphans


def work(settings: Settings, processes: int = 1) -> None:
    """A standalone worker (or a pool of them) against the settings' database and storage."""
    if processes == 1:
        worker = Worker(settings)
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())
        try:
            worker.run_forever()
        except KeyboardInterrupt:
            worker.stop()
        return
    pool = WorkerPool(settings, processes)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        pool.start()
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        pool.stop()
