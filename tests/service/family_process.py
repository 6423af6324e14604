"""A test process (a plugin) that starts what a GCBM run may start: a forkserver process pool
(as `gcbm.run.process_pool` does), a forked multiprocessing child and a subprocess. It writes
every pid of the job to `family.json` in its work directory, then waits to be killed."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor

from pydantic import BaseModel, ConfigDict

from flintcloud.service.processes import OutputSpec, ProcessDefinition


class FamilyInputs(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _sleep_forever() -> None:
    while True:
        time.sleep(60)


def run_family(inputs: dict, work_dir, progress, cancel_check) -> dict:
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
    pool_worker = pool.submit(os.getpid).result(timeout=60)
    from multiprocessing import forkserver

    forked = multiprocessing.get_context("fork").Process(target=_sleep_forever, daemon=False)
    forked.start()
    sleeper = subprocess.Popen(["sleep", "600"])
    family = {"job": os.getpid(), "pool_worker": pool_worker,
              "forkserver": forkserver._forkserver._forkserver_pid,  # noqa: SLF001
              "forked": forked.pid, "subprocess": sleeper.pid}
    staged = work_dir / "family.json.tmp"
    staged.write_text(json.dumps(family), encoding="utf-8")
    staged.replace(work_dir / "family.json")
    progress(50, "family started")
    while True:
        cancel_check()
        time.sleep(0.05)


FAMILY = ProcessDefinition(
    id="family", title="Process family test process",
    description="Starts a process pool, a forked child and a subprocess, then waits.",
    inputs=FamilyInputs, executor=run_family,
    outputs={"none": OutputSpec("Nothing", "text/plain")})
