"""A test process killed by SIGKILL on its first attempt (as the OOM killer would), which
succeeds when run again."""

from __future__ import annotations

import os
import signal
import time

from pydantic import BaseModel, ConfigDict

from flintcloud.service.processes import OutputSpec, ProcessDefinition


class KilledInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")


def run_killed_once(inputs: dict, work_dir, progress, cancel_check) -> dict:
    progress(40, "half way")
    time.sleep(0.3)  # a heartbeat records the progress
    marker = work_dir.parent / "killed-once"
    if not marker.exists():
        marker.touch()
        (work_dir / "partial.txt").write_text("half an output", encoding="utf-8")
        os.kill(os.getpid(), signal.SIGKILL)
    (work_dir / "done.txt").write_text("done", encoding="utf-8")
    return {"done": "done.txt"}


KILLED = ProcessDefinition(
    id="killed", title="Killed once", description="SIGKILLed on its first attempt.",
    inputs=KilledInputs, executor=run_killed_once,
    outputs={"done": OutputSpec("A marker", "text/plain")})
