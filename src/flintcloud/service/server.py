"""Running the service: `serve` (HTTP server plus its worker pool) and a standalone worker."""

from __future__ import annotations

import logging
import signal
import sys
from datetime import timedelta

from flintcloud.service.app import create_app
from flintcloud.service.services import Services
from flintcloud.service.worker import Worker, WorkerPool
from flintcloud.settings import Settings

logger = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    """Serve HTTP on settings.host:port with `settings.workers` worker processes beside it."""
    import uvicorn

    services = Services.build(settings)
    # A restart: jobs whose workers died with the previous server go back to the queue at once.
    orphans = services.jobs.repository.requeue_orphans(timedelta(seconds=settings.heartbeat_timeout_s))
    for job in orphans:
        services.storage.append_log(job.id, job.message)
    if orphans:
        logger.warning("re-queued or failed %d orphaned job(s)", len(orphans))
    pool = WorkerPool(settings, settings.workers).start() if settings.workers else None
    try:
        uvicorn.run(create_app(settings, services=services), host=settings.host,
                    port=settings.port, log_level="info", access_log=False)
    finally:
        if pool is not None:
            pool.stop()


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
    pool = WorkerPool(settings, processes).start()
    stopped = []
    signal.signal(signal.SIGTERM, lambda *_: stopped.append(True))
    try:
        while not stopped:
            signal.pause() if hasattr(signal, "pause") else sys.stdin.read()
    except KeyboardInterrupt:
        pass
    finally:
        pool.stop()
