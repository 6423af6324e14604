"""HTTP helpers shared by the routers: waiting for a synchronous job, sending files and zips."""

from __future__ import annotations

import shutil
import time
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import anyio
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from flintcloud.service.errors import JobTimeoutError, NoSuchJobError
from flintcloud.service.jobs import Job
from flintcloud.service.services import Services

T = TypeVar("T")


async def in_thread(function: Callable[..., T], *args, **kwargs) -> T:
    """Run blocking service code (SQL writes, files) off the event loop."""
    return await anyio.to_thread.run_sync(partial(function, *args, **kwargs))


async def wait_for_job(services: Services, job: Job, timeout: float) -> Job:
    """Poll the job until it is final. The wait holds no thread: each poll is one quick read,
    done on the event loop as `GET /jobs/{id}` does."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        current = services.jobs.repository.get(job.id)  # a fast read, like GET /jobs/{id}
        if current is None:
            raise NoSuchJobError(f"job {job.id!r} was deleted while it ran")
        if current.status.is_final:
            return current
        if time.monotonic() >= deadline:
            raise JobTimeoutError(f"job {job.id} is still {current.status} after {timeout:g} s",
                                  hint=f"poll /jobs/{job.id} for its status and results")
        await anyio.sleep(delay)
        delay = min(delay * 1.5, 0.2)


def _zip_directory(directory: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and not path.is_symlink():
                bundle.write(path, path.relative_to(directory).as_posix())


def file_response(services: Services, path: Path, *, filename: str,
                  media_type: str | None = None) -> FileResponse:
    """A file as an attachment; a directory as a zip built in staging and removed once sent."""
    if path.is_dir():
        staging = services.storage.new_staging_dir()
        archive = staging / "bundle.zip"
        _zip_directory(path, archive)
        return FileResponse(archive, media_type="application/zip", filename=filename,
                            background=BackgroundTask(shutil.rmtree, staging, ignore_errors=True))
    return FileResponse(path, media_type=media_type or "application/octet-stream", filename=filename)
