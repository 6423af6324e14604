"""`flintcloud export-dvc`: the exported pipeline run by the real `dvc` (offline, no remote)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flintcloud.errors import InputError
from flintcloud.repro.dvc import export_dvc
from flintcloud.repro.manifest import read_manifest
from tests.gcbm.conftest import demo_zip

pytest.importorskip("dvc", reason="dvc is in the test extra")


def _run(*args: str, cwd: Path) -> str:
    env = os.environ.copy()
    # the stage's `flintcloud` is this environment's; DVC must not phone home
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env |= {"DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "t@example",
            "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "t@example"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_exported_pipeline_reproduces_the_run_with_dvc(demo_run, tmp_path):
    folder = tmp_path / "pipeline"
    pipeline = export_dvc(demo_run, folder, demo_zip())
    assert pipeline.warnings == []
    stages = yaml.safe_load((folder / "dvc.yaml").read_text())["stages"]
    assert stages["run"]["cmd"] == "flintcloud gcbm run project -o run --settings params.yaml"
    assert "project/config/localdomain.json" in stages["run"]["deps"]
    params = yaml.safe_load((folder / "params.yaml").read_text())
    assert (params["start_year"], params["end_year"]) == (2010, 2020)
    assert stages["run"]["params"] == list(params)

    _run("git", "init", "-q", cwd=folder)
    _run("dvc", "init", "-q", cwd=folder)
    _run("dvc", "repro", cwd=folder)
    again = read_manifest(folder / "run")
    assert again.outputs == read_manifest(demo_run).outputs  # every output's sha256
    metrics = json.loads((folder / "metrics.json").read_text())
    assert sorted(metrics) == [str(year) for year in range(2010, 2021)]
    summary = json.loads((demo_run / "annual_summary.json").read_text())
    assert metrics["2015"]["npp_tc_per_yr"] == summary[5]["npp_tc_per_yr"]

    # a scenario: a shorter period, run again, and DVC says what changed
    _run("git", "add", ".", cwd=folder)
    _run("git", "commit", "-q", "-m", "baseline", cwd=folder)
    text = (folder / "params.yaml").read_text()
    (folder / "params.yaml").write_text(text.replace("end_year: 2020", "end_year: 2018"))
    _run("dvc", "repro", cwd=folder)
    assert json.loads(_run("dvc", "params", "diff", "--json", cwd=folder)) == \
        {"params.yaml": {"end_year": {"old": 2020, "new": 2018, "diff": -2}}}
    changed = json.loads(_run("dvc", "metrics", "diff", "--json", cwd=folder))["metrics.json"]
    assert changed["2020.npp_tc_per_yr"]["new"] is None
    assert sorted(json.loads((folder / "metrics.json").read_text())) == \
        [str(year) for year in range(2010, 2019)]


def test_export_dvc_refuses_a_folder_in_use(demo_run, tmp_path):
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="must be new or empty"):
        export_dvc(demo_run, tmp_path / "pipeline", demo_zip())


def test_export_dvc_warns_when_the_project_is_not_the_runs(demo_run, tmp_path):
    project = tmp_path / "project"
    shutil.unpack_archive(demo_zip(), project)
    (project / "config" / "logging.conf").write_text("changed\n")
    pipeline = export_dvc(demo_run, tmp_path / "pipeline", project)
    assert pipeline.warnings == ["config/logging.conf: not the file the run read"]
