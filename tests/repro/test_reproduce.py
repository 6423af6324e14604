"""`flintcloud reproduce`: a run made again from its manifest, every hash compared."""

from __future__ import annotations

import json
import shutil

import pytest

from flintcloud.errors import InputError
from flintcloud.repro.manifest import compare_files, compare_values, read_manifest, verify_files
from flintcloud.repro.reproduce import reproduce
from tests.gcbm.conftest import demo_zip
from tests.repro.conftest import cli, extract


def test_reproduce_demo_is_identical_exit_0(demo_run):
    done = cli("reproduce", demo_run)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "identical inputs and outputs" in done.stdout
    n_outputs = len(read_manifest(demo_run).outputs)
    assert f"outputs:  {n_outputs} files, identical" in done.stdout
    assert len(done.stdout.splitlines()) <= 24  # one screen


def test_reproduce_names_a_changed_input_and_the_tables_exit_3(demo_run, tmp_path):
    project = extract(demo_zip(), tmp_path / "project")
    domain = project / "config" / "localdomain.json"
    domain.write_text(domain.read_text().replace("2021/01/01", "2020/01/01"))
    done = cli("reproduce", demo_run, "--project", project)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "inputs:   1 changed: config/localdomain.json" in done.stdout
    assert "merged.LocalDomain.end_date: '2021/01/01' -> '2020/01/01'" in done.stdout
    assert "table   annual_summary.csv: 11 rows before, 10 after" in done.stdout
    assert "NOT reproduced" in done.stdout


def test_reproduce_notices_a_run_folder_changed_since(demo_run, tmp_path):
    run = shutil.copytree(demo_run, tmp_path / "run")
    (run / "fluxes_by_year.csv").write_text("year\n2010\n")
    (run / "annual_summary.json").unlink()
    modified = verify_files(read_manifest(run))  # what `reproduce` checks before running
    assert (modified.changed, modified.removed) == (["fluxes_by_year.csv"],
                                                    ["annual_summary.json"])


@pytest.mark.parametrize(("edit", "message"), [
    (lambda run: (run / "manifest.json").unlink(), "no manifest.json in this folder"),
    (lambda run: (run / "manifest.json").write_text("{"), "not JSON"),
    (lambda run: _edit_manifest(run, manifest_version=0), "manifest version 0 is not supported"),
    (lambda run: _edit_manifest(run, kind="other"), "runs of kind 'other' cannot be reproduced"),
    (lambda run: _edit_manifest(run, source="/nowhere/project.zip"),
     "project not found: /nowhere/project.zip"),
])
def test_reproduce_bad_input_is_one_line_exit_2(demo_run, tmp_path, edit, message):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(demo_run / "manifest.json", run)
    edit(run)
    with pytest.raises(InputError, match=message):
        reproduce(run)


def test_reproduce_cli_without_manifest_is_exit_2(tmp_path):
    done = cli("reproduce", tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: {tmp_path}: no manifest.json in this folder "
        "(give the output folder of `flintcloud gcbm run`)"]


def _edit_manifest(run, **changes):
    path = run / "manifest.json"
    document = json.loads(path.read_text()) | changes
    path.write_text(json.dumps(document))


def test_compare_files_and_values():
    changes = compare_files({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "9", "d": "4"})
    assert (changes.changed, changes.added, changes.removed) == (["b"], ["d"], ["c"])
    assert [(c.key, c.before, c.after) for c in compare_values(
        {"x": {"y": 1, "z": [1]}}, {"x": {"y": 2, "z": [1]}, "w": 0})] == \
        [("w", None, 0), ("x.y", 1, 2)]


def test_settings_compare_the_merged_configuration_not_each_file_again(tmp_path):
    from flintcloud.repro.manifest import RunManifest, compare_manifests

    def manifest(end_date: str, *, documents: bool) -> RunManifest:
        configuration = {"merged": {"LocalDomain": {"end_date": end_date}},
                         "files": ["localdomain.json"]}
        if documents:  # each file as run, as manifests record them now
            configuration["documents"] = {"localdomain.json": configuration["merged"]}
        return RunManifest(tmp_path, {"configuration": configuration, "inputs": [],
                                      "outputs": [], "environment": {}})

    older = manifest("2021/01/01", documents=False)
    assert not compare_manifests(older, manifest("2021/01/01", documents=True)).settings
    changed = compare_manifests(older, manifest("2016/01/01", documents=True)).settings
    assert [(c.key, c.before, c.after) for c in changed] == \
        [("merged.LocalDomain.end_date", "2021/01/01", "2016/01/01")]
