"""Fixtures for GCBM tests: the demo project (shared data, read in place) and editable copies."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.conftest import shared_path

REFERENCE = ("data", "gcbm-reference")


def demo_zip() -> Path:
    return shared_path("data", "gcbm-demo", "gcbm-project-demo.zip")


@pytest.fixture(scope="session")
def demo_run():
    """The demo project run once per session (about 3 s)."""
    from flintcloud.gcbm.run import run_project

    return run_project(demo_zip())


@pytest.fixture
def demo_copy(tmp_path) -> Path:
    """An editable copy of the demo project; returns its config directory."""
    with zipfile.ZipFile(demo_zip()) as zipped:
        zipped.extractall(tmp_path / "project")
    return next((tmp_path / "project").glob("**/gcbm_config.cfg")).parent
