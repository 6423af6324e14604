"""Run a run again from its manifest and say whether it reproduced: every input and output
compared by sha256, tables that differ compared cell by cell, times never compared."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flintcloud.errors import InputError
from flintcloud.repro.manifest import (
    FileChanges,
    ManifestDifferences,
    RunManifest,
    compare_manifests,
    read_manifest,
    verify_files,
)
from flintcloud.repro.models import adapter_for
from flintcloud.repro.tables import ColumnDifference, compare_table_files, is_table

MAX_LISTED = 5  # names per line of a verdict: it fits on one screen


@dataclass
class Verdict:
    run: RunManifest
    rerun: RunManifest
    project: Path
    differences: ManifestDifferences
    modified: FileChanges  # the run folder's files against its own manifest
    tables: list[ColumnDifference] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        return not (self.differences.inputs or self.differences.outputs or self.modified)


def find_project(run: RunManifest, project: str | Path | None) -> Path:
    """`project`, or the project the manifest names if it is still there."""
    path = Path(project) if project is not None else Path(run.source) if run.source else None
    if path is None or not path.exists():
        where = f"{path}" if path is not None else "the manifest names none"
        raise InputError(f"project not found: {where}", source=str(run.run_dir),
                         hint="give it with --project")
    return path


def reproduce(run_dir: str | Path, project: str | Path | None = None,
              output_dir: str | Path | None = None) -> Verdict:
    """Run `run_dir`'s run again (into `output_dir`, or a temporary folder) and compare."""
    run = read_manifest(run_dir)
    adapter = adapter_for(run)
    source = find_project(run, project)
    modified = verify_files(run)
    if output_dir is not None:
        return _rerun_into(run, adapter.rerun, source, Path(output_dir), modified)
    with tempfile.TemporaryDirectory(prefix="flintcloud-reproduce-") as folder:
        return _rerun_into(run, adapter.rerun, source, Path(folder) / "run", modified)


def _rerun_into(run: RunManifest, rerun: Callable[[dict[str, Any], Path, Path], None],
                source: Path, output_dir: Path, modified: FileChanges) -> Verdict:
    rerun(run.document, source, output_dir)
    again = read_manifest(output_dir)
    differences = compare_manifests(run, again)
    tables = []
    for path in differences.outputs.changed:
        if is_table(path) and path not in modified.paths() and (run.run_dir / path).is_file():
            tables += compare_table_files(run.run_dir / path, output_dir / path, path)
    return Verdict(run, again, source, differences, modified, tables)


def _listing(paths: list[str]) -> str:
    shown = ", ".join(paths[:MAX_LISTED])
    return shown + (f" … and {len(paths) - MAX_LISTED} more" if len(paths) > MAX_LISTED else "")


def format_verdict(verdict: Verdict) -> list[str]:
    """The verdict in a few lines: what was run, inputs, outputs, tables, versions."""
    run, differences = verdict.run, verdict.differences
    n_inputs, n_outputs = len(verdict.rerun.inputs), len(run.outputs)
    lines = [f"run:      {run.run_dir} ({run.kind}, {run.document.get('finished', '?')})",
             f"project:  {verdict.project}"]
    inputs = differences.inputs
    if not inputs:
        lines.append(f"inputs:   {n_inputs} files, identical")
    else:
        if inputs.changed:
            lines.append(f"inputs:   {len(inputs.changed)} changed: {_listing(inputs.changed)}")
        if inputs.added:
            lines.append(f"inputs:   {len(inputs.added)} new: {_listing(inputs.added)}")
        if inputs.removed:
            lines.append(f"inputs:   {len(inputs.removed)} missing: {_listing(inputs.removed)}")
    for change in differences.settings[:MAX_LISTED]:
        lines.append(f"setting:  {change.key}: {change.before!r} -> {change.after!r}")
    if len(differences.settings) > MAX_LISTED:
        lines.append(f"setting:  … and {len(differences.settings) - MAX_LISTED} more")
    if verdict.modified:
        lines.append(f"run folder: {len(verdict.modified.paths())} file(s) no longer as the "
                     f"manifest lists them: {_listing(verdict.modified.paths())}")
    outputs = differences.outputs
    if not outputs:
        lines.append(f"outputs:  {n_outputs} files, identical (sha256)")
    else:
        if outputs.changed:
            lines.append(f"outputs:  {len(outputs.changed)} of {n_outputs} differ: "
                         f"{_listing(outputs.changed)}")
        if outputs.added:
            lines.append(f"outputs:  {len(outputs.added)} new: {_listing(outputs.added)}")
        if outputs.removed:
            lines.append(f"outputs:  {len(outputs.removed)} not made: {_listing(outputs.removed)}")
    for difference in verdict.tables[:MAX_LISTED]:
        lines.append(f"  table   {difference.describe()}")
    if len(verdict.tables) > MAX_LISTED:
        lines.append(f"  table   … and {len(verdict.tables) - MAX_LISTED} more columns")
    for change in differences.versions:
        lines.append(f"version:  {change.key}: {change.before} -> {change.after}")
    lines.append("verdict:  reproduced: identical inputs and outputs" if verdict.reproduced
                 else "verdict:  NOT reproduced")
    return lines
