"""Upstream FLINT.Cloud's texts and answers, kept word for word where clients may depend on them.

moja.cli's `--help-section` knows `all`, `files` and `configs`; any other section is answered
with its "Unknown section" line and exit code 1, still inside a 200 envelope (§1.1).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flintcloud import __version__
from flintcloud.service.jobs import Job, JobStatus

_FILES = """Command line options:
  --config arg             FLINT JSON configuration file; repeat to merge (first wins)
  --output-dir arg         where output files go
  --batch arg              CSV table with one row per land unit
"""
_CONFIGS = """Configuration file options:
  --format arg (=parquet)  batch output table format: parquet or csv
  --workers arg (=1)       processes for a batch run
"""
_GENERAL = f"""flintcloud {__version__}: FLINT and GCBM carbon models

General options:
  --help                   produce help message
  --help-section arg       produce help message for a section (all, files, configs)
  --version                print the version
"""
HELP_SECTIONS = {"all": _GENERAL + "\n" + _FILES + "\n" + _CONFIGS, "files": _FILES,
                 "configs": _CONFIGS}

NEW_SIMULATION = ("New simulation started. Please move on to the next stage for uploading files "
                  "at /gcbm/upload.")
SIMULATION_EXISTS = ("Simulation already exists. Please check the list of simulations present "
                     "before proceeding with a new simulation at gcbm/list. You may also download "
                     "the input and output files for this simulation at gcbm/download sending "
                     "parameter title in the body.")
TITLE_STARTED = ("New {title} simulation started. Please move on to the next stage for uploading "
                 "files at /gcbm/upload.")
TITLE_EXISTS = ("Simulation already exists with name {title}. Please check the list of simulations "
                "present before proceeding with a new simulation at gcbm/list. You may also "
                "download the input and output files for this simulation at gcbm/download sending "
                "parameter title in the body.")
ALL_UPLOADED = "All files uploaded succesfully. Proceed to the next step of the API at gcbm/dynamic."
CATEGORY_UPLOADED = "{Category} file uploaded succesfully. Proceed to the next step."
LIST_MESSAGE = ("To create a new simulation, create a request at gcbm/new. To access the results of "
                "the existing simulations, create a request at gcbm/download.")
READY = "Output is ready to download at gcbm/download"


def envelope(run: Callable[[], tuple[int, str]]) -> dict:
    """{"data": {"exitCode", "execTime", "response"}}, timed like upstream's subprocess call."""
    start = time.perf_counter()
    exit_code, text = run()
    return {"data": {"exitCode": exit_code, "execTime": time.perf_counter() - start,
                     "response": text}}


def help_section(section: str) -> tuple[int, str]:
    if section in HELP_SECTIONS:
        return 0, HELP_SECTIONS[section]
    return 1, f"Unknown section '{section}' in the --help-section option\n"


def version() -> tuple[int, str]:
    return 0, f"flintcloud {__version__}\n"


def not_started(refusal: str | None, problems: list[dict[str, Any]]) -> dict[str, Any]:
    """The status of a simulation never run: ready, or why gcbm/dynamic refuses to start it."""
    if refusal is None:
        return {"finished": "Not started: ready, POST gcbm/dynamic", "status": "not_started",
                "problems": []}
    return {"finished": f"Not started: {refusal}", "status": "not_started", "problems": problems}


def status_message(job: Job | None) -> dict[str, Any]:
    """Upstream's {"finished": …}, now telling the truth (upstream stayed "In Progress" forever),
    plus the job's real status, progress and, on failure, the error."""
    if job is None:
        return not_started(None, [])
    texts = {JobStatus.ACCEPTED: "In Progress", JobStatus.RUNNING: "In Progress",
             JobStatus.SUCCESSFUL: READY,
             JobStatus.FAILED: f"Failed: {job.error_detail}",
             JobStatus.DISMISSED: "Cancelled"}
    answer: dict[str, Any] = {"finished": texts[job.status], "status": job.status.value, "job": job.id,
              "progress": job.progress, "message": job.message}
    if job.status is JobStatus.FAILED:
        answer["error"] = {"code": job.error_code, "detail": job.error_detail}
    return answer
