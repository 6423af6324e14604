"""`flintcloud gcbm configure PROJECT --patch file.json`: configuration files patched with JSON
merge patches, checked as an uploaded project; a bad patch changes nothing, one line a problem,
exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flintcloud.gcbm.inputs import get_config
from flintcloud.gcbm.project.config import read_project
from tests.gcbm.inputs.conftest import cbm_defaults


def _flintcloud(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flintcloud", *map(str, args)],
                          capture_output=True, text=True, check=False)


@pytest.fixture
def project(tmp_path) -> Path:
    from flintcloud.gcbm.inputs.demo import write_demo_project

    return write_demo_project(tmp_path / "demo" / "project", cbm_defaults_path=cbm_defaults()).parent


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def _patch_file(folder: Path, document) -> Path:
    path = folder / "patch.json"
    path.write_text(json.dumps(document))
    return path


def test_configure_patch_round_trip(project, tmp_path):
    before = _files(project)
    patch = _patch_file(tmp_path, {
        "localdomain": {"LocalDomain": {"end_date": "2014/01/01"}},
        "variables.json": {"Variables": {"slow_ag_to_bg_mixing_rate": 0.01,
                                         "enable_moss": None}}})
    done = _flintcloud("gcbm", "configure", project, "--patch", patch,
                       "--set", "spinup.minimum_rotation=12")
    assert done.returncode == 0, done.stderr
    after = _files(project)
    assert {name for name in after if after[name] != before.get(name)} == {
        "config/localdomain.json", "config/variables.json", "config/spinup.json"}
    assert set(after) == set(before)  # no staging copy left behind
    assert not [path for path in project.parent.iterdir() if path.name.startswith(".")]
    variables = json.loads(after["config/variables.json"])["Variables"]
    assert variables["slow_ag_to_bg_mixing_rate"] == 0.01 and "enable_moss" not in variables
    settings = get_config(project)  # read back: the patched period, the --set setting
    assert settings.end_year == 2013
    assert settings.spinup is not None and settings.spinup.minimum_rotation == 12
    engine = read_project(project / "config")
    assert engine.n_steps == 4 and engine.variables.get("slow_ag_to_bg_mixing_rate") == 0.01


def test_configure_bad_patch_changes_nothing_one_line_each(project, tmp_path):
    before = _files(project)
    shapes = _flintcloud("gcbm", "configure", project, "--patch", _patch_file(tmp_path, {
        "../config/variables.json": {}, "variables": ["not", "an", "object"]}))
    assert shapes.returncode == 2 and "Traceback" not in shapes.stderr
    lines = shapes.stderr.splitlines()
    assert lines[0] == "error: 2 problems:"
    assert lines[1].startswith("  - ../config/variables.json: no configuration file "
                               "'../config/variables.json' (files: localdomain.json, ")
    assert lines[2:] == ["  - variables.json: (top level): the file must stay a JSON object, "
                         "not list"]
    engine = _flintcloud("gcbm", "configure", project, "--patch", _patch_file(tmp_path, {
        "modules_cbm": {"Modules": {"CBMGrowthModule": {"settings": {"bogus": 1}}}}}),
        "--set", "end_year=2012")
    assert engine.returncode == 2
    assert engine.stderr.splitlines()[1:] == [
        "  - modules_cbm.json: Modules.CBMGrowthModule.settings.bogus: setting 'bogus' is "
        "not supported"]
    unreadable = _patch_file(tmp_path, {})
    unreadable.write_text("{not json")
    done = _flintcloud("gcbm", "configure", project, "--patch", unreadable)
    assert done.returncode == 2
    assert done.stderr.splitlines()[1].startswith("  - patch.json: --patch: cannot be read as "
                                                  "JSON: ")
    assert _files(project) == before
    assert not [path for path in project.parent.iterdir() if path.name.startswith(".")]
