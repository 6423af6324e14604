"""Shared test fixtures. flintcloud is imported first so NumPy starts in libm-exact mode."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import flintcloud  # noqa: F401  (must precede numpy: see flintcloud/__init__.py)

# Fixtures shared by tests in several folders (io and cli) for GCBM input preparation.
pytest_plugins = ["tests.gcbm.inputs.fixtures"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("FLINTCLOUD_SHARED_DIR", PROJECT_ROOT.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared; in CI (CI=true) its absence fails the test, elsewhere it skips."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        message = f"reference data not found at {path} (set FLINTCLOUD_SHARED_DIR)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def _isolate_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("FLINTCLOUD_") and name != "FLINTCLOUD_SHARED_DIR":
            monkeypatch.delenv(name)
