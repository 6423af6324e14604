"""Where job and simulation files live under the storage root, and the only way to build a path
from something a user sent (`resolve_inside`).

    <root>/jobs/<job id>/inputs/        files prepared when the job was submitted (read-only)
                         attempt-<n>/    the work directory of attempt n
                         results/        the successful attempt's directory, renamed
                         job.log         lifecycle and progress lines
    <root>/simulations/<simulation id>/  inputs/<category>/<file> and inputs/attributes.json
                                         (GCBM's upload form), prepared/ (its project)
    <root>/staging/<random>/            uploads and job inputs until they are accepted

Staging lives on the same filesystem as the rest, so accepting something is an atomic rename.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from flintcloud.errors import InputError, NotFoundError


def _checked_id(text: str) -> str:
    try:
        if str(uuid.UUID(text)) == text:
            return text
    except ValueError:
        pass
    raise NotFoundError(f"{text!r} is not a valid id")


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def ensure(self) -> Storage:
        for name in ("jobs", "simulations", "staging"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        return self

    # -- jobs -------------------------------------------------------------------------------------
    def job_dir(self, job_id: str) -> Path:
        return self.root / "jobs" / _checked_id(job_id)

    def job_inputs_dir(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "inputs"

    def job_attempt_dir(self, job_id: str, attempt: int) -> Path:
        return self.job_dir(job_id) / f"attempt-{attempt}"

    def job_results_dir(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "results"

    def job_log(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "job.log"

    def append_log(self, job_id: str, line: str) -> None:
        path = self.job_log(job_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        with path.open("a", encoding="utf-8") as log:
            log.write(f"{stamp} {line}\n")

    # -- simulations ------------------------------------------------------------------------------
    def simulation_dir(self, simulation_id: str) -> Path:
        return self.root / "simulations" / _checked_id(simulation_id)

    # -- staging ----------------------------------------------------------------------------------
    def new_staging_dir(self) -> Path:
        staging = self.root / "staging"
        staging.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=staging))

    @staticmethod
    def resolve_inside(base: Path, relative: str) -> Path:
        """`base / relative`, refusing absolute paths, `..`, backslashes and symlinks that leave
        `base`: the one function that turns a user-supplied path into a file."""
        if "\\" in relative or "\x00" in relative:
            raise InputError(f"path {relative!r} may not contain backslashes or NUL", field="path")
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise InputError(f"path {relative!r} must be relative and stay inside its directory",
                             field="path")
        base = base.resolve()
        target = (base / relative).resolve()
        if not target.is_relative_to(base):
            raise InputError(f"path {relative!r} leaves its directory", field="path")
        if not target.exists():
            raise NotFoundError(f"no file {relative!r}")
        return target
