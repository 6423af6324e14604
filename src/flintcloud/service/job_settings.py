"""The settings of the worker that runs this job process, for executors that need a deployment
setting (the GCBM engine: `dask_scheduler`).

A process executor's signature is fixed (inputs, work dir, progress, cancel check: plugins
implement it), so the worker hands its settings to the job process once, when the process starts;
each job has its own process, so nothing leaks from one job to the next.
"""

from __future__ import annotations

from flintcloud.settings import Settings, get_settings

_settings: Settings | None = None


def enter_job_process(settings: Settings) -> None:
    """Called by the worker in a new job process, before the executor runs."""
    global _settings
    _settings = settings


def job_settings() -> Settings:
    """The running job's worker settings; outside a job process, the environment's."""
    return _settings if _settings is not None else get_settings()
