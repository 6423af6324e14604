"""The demo project run once for the reproducibility tests, and a scenario of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flintcloud.gcbm.inputs.edit import update_config
from flintcloud.gcbm.run import run_gcbm
from tests.gcbm.conftest import demo_zip

# the demo's 2011 fire made a beetle outbreak: a "less fire" scenario of the same landscape
LESS_FIRE = {"layers": {"disturbances_2011": {"attributes": {"1": {
    "year": 2011, "disturbance_type": "Mountain pine beetle — Low impact", "transition": 1}}}}}


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The demo project's run folder (read only: tests copy what they change)."""
    out = tmp_path_factory.mktemp("repro") / "baseline"
    run_gcbm(demo_zip(), out)
    return out


@pytest.fixture(scope="session")
def scenario_run(tmp_path_factory) -> Path:
    """The demo with less fire."""
    root = tmp_path_factory.mktemp("scenario")
    extract(demo_zip(), root / "project")
    update_config(root / "project", LESS_FIRE)
    run_gcbm(root / "project", root / "run")
    return root / "run"


def extract(archive: Path, target: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(target)
    return target


def cli(*args, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flintcloud", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, check=False,
                          env=env or os.environ.copy())
