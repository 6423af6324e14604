"""A run as a DVC pipeline: `dvc.yaml` with a stage that runs the model on the project's files
(deps on every input, params from `params.yaml`, outs on the outputs) and a stage that writes
the annual indicators as DVC metrics, so that `git init && dvc init && dvc repro` in the folder
makes the run again, and `dvc params diff` / `dvc metrics diff` show what changed."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from flintcloud.errors import InputError
from flintcloud.io.files import atomic_path
from flintcloud.io.manifest import MANIFEST_NAME, file_entries
from flintcloud.repro.manifest import compare_files, project_inputs, read_manifest
from flintcloud.repro.models import adapter_for
from flintcloud.repro.reproduce import find_project

PROJECT_FOLDER = "project"
RUN_FOLDER = "run"
PARAMS_FILE = "params.yaml"
METRICS_FILE = "metrics.json"


@dataclass
class Pipeline:
    folder: Path
    files: list[Path]
    warnings: list[str] = field(default_factory=list)


def export_dvc(run_dir: str | Path, target: str | Path,
               project: str | Path | None = None) -> Pipeline:
    """Write the pipeline of `run_dir`'s run into `target` (new or empty), with a copy of the
    project's files in `target/project`; warn when those are not the files the run read."""
    run = read_manifest(run_dir)
    adapter = adapter_for(run)
    source = find_project(run, project)
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError("the pipeline's folder must be new or empty", source=str(target))
    target.mkdir(parents=True, exist_ok=True)
    adapter.copy_project(source, target / PROJECT_FOLDER)
    copied = {entry["path"]: entry["sha256"] for entry in file_entries(target / PROJECT_FOLDER)}
    changes = compare_files(project_inputs(run), copied)
    warnings = [f"{path}: not the file the run read" for path in changes.changed] + \
        [f"{path}: the run read it, the project has none" for path in changes.removed]

    params = adapter.editable_settings(target / PROJECT_FOLDER)
    outputs = sorted({path.split("/", 1)[0] for path in run.outputs} | {MANIFEST_NAME})
    command = adapter.run_command(PROJECT_FOLDER, RUN_FOLDER, PARAMS_FILE, run.document)
    summary = _annual_summary_output(run.outputs)
    stages: dict[str, Any] = {
        "run": {
            "cmd": shlex.join(command),
            "deps": [f"{PROJECT_FOLDER}/{path}" for path in sorted(copied)],
            "params": list(params),
            "outs": [f"{RUN_FOLDER}/{name}" for name in outputs],
        },
        "metrics": {
            "cmd": shlex.join(adapter.metrics_command(RUN_FOLDER, METRICS_FILE)),
            "deps": [f"{RUN_FOLDER}/{summary}"],
            "metrics": [{METRICS_FILE: {"cache": False}}],
        },
    }
    files = [
        _write_yaml(target / "dvc.yaml", {"stages": stages}),
        _write_yaml(target / PARAMS_FILE, params),
        _write_text(target / "README.md", _readme(run.run_dir, source, command)),
    ]
    return Pipeline(target, files, warnings)


def _annual_summary_output(outputs: dict[str, str]) -> str:
    for path in outputs:
        if path.startswith("annual_summary") and path.endswith(".csv"):
            return path
    raise InputError("the run has no annual summary to take metrics from",
                     source=MANIFEST_NAME, field="outputs")


def _write_yaml(path: Path, document: Any) -> Path:
    return _write_text(path, yaml.safe_dump(document, sort_keys=False, allow_unicode=True,
                                            width=100))


def _write_text(path: Path, text: str) -> Path:
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path


def _readme(run_dir: Path, source: Path, command: list[str]) -> str:
    return f"""# A reproducible run

Exported by `flintcloud export-dvc` from the run in `{run_dir}` (project `{source}`).

- `{PROJECT_FOLDER}/`: the project's files, every one a dependency of the `run` stage;
- `{PARAMS_FILE}`: the settings you edit (period, spatial unit, spinup, growth, outputs,
  disturbance events); the stage applies them to the project before it runs;
- `dvc.yaml`: `run` runs `{shlex.join(command)}` into `{RUN_FOLDER}/`; `metrics` writes the
  annual indicators to `{METRICS_FILE}`.

```bash
git init && dvc init && dvc repro        # make the run again
git add . && git commit -m baseline
# edit params.yaml (e.g. end_year), then:
dvc repro && dvc params diff && dvc metrics diff
```

`{RUN_FOLDER}/{MANIFEST_NAME}` lists every output's sha256: compare it with the original run's
(`flintcloud reproduce` does it for a run and its project).
"""
