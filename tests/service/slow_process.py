"""A deliberately slow test process (a plugin, as deployments add theirs): it reports progress
for `steps` steps, then runs the FLINT Point example. Its output is the same bytes every time, so
a run interrupted and re-run can be compared with an uninterrupted one."""

from __future__ import annotations

import io
import time

from pydantic import BaseModel, ConfigDict, Field

from flintcloud.flint.controller import run_config
from flintcloud.runner.examples import example_config
from flintcloud.service.processes import OutputSpec, ProcessDefinition


class SlowInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(10, ge=1, le=1000)
    delay_s: float = Field(0.1, ge=0, le=10)


def run_slow(inputs: dict, work_dir, progress, cancel_check) -> dict:
    for step in range(inputs["steps"]):
        cancel_check()
        progress(100 * step / inputs["steps"], f"step {step + 1}/{inputs['steps']}")
        time.sleep(inputs["delay_s"])
    screen = io.StringIO()
    run_config(example_config("point"), output_dir=work_dir / "files", screen=screen)
    lines = [line for line in screen.getvalue().splitlines(keepends=True)
             if not line.startswith(("Started:", "Finished:"))]  # the only lines with a clock
    (work_dir / "stock.csv").write_text("".join(lines), encoding="utf-8")
    return {"stock": "stock.csv"}


SLOW = ProcessDefinition(
    id="slow", title="Slow test process", description="Sleeps in steps, then runs Point.",
    inputs=SlowInputs, executor=run_slow,
    outputs={"stock": OutputSpec("Stock CSV without timestamps", "text/csv")})
