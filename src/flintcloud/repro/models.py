"""What `repro` needs from a model, by the `kind` its manifests name: how to run a run again,
its settings and command line (DVC), its annual indicators (reports)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from flintcloud.errors import InputError
from flintcloud.repro.manifest import RunManifest


@dataclass(frozen=True)
class ModelAdapter:
    kind: str
    # (manifest document, project, output folder): the run made again
    rerun: Callable[[dict[str, Any], Path, Path], None]
    # (project, target folder): the project's files copied there; returns the project root
    copy_project: Callable[[Path, Path], Path]
    # project -> the settings a user edits (a DVC pipeline's params.yaml)
    editable_settings: Callable[[Path], dict[str, Any]]
    # (project, output folder, settings file or None, manifest document) -> a command line
    run_command: Callable[[str, str, str | None, dict[str, Any]], list[str]]
    # the command line that writes a run's metrics file: (run folder, metrics file)
    metrics_command: Callable[[str, str], list[str]]
    # run folder -> its annual indicators, one row per year, `year` first
    annual_table: Callable[[Path], pd.DataFrame]
    # (title, unit, columns or column prefixes ending in "[") charted together
    chart_groups: list[tuple[str, str, tuple[str, ...]]]
    key_indicators: tuple[str, ...]
    # manifest document -> what two comparable runs share (their landscape)
    landscape: Callable[[dict[str, Any]], Any]
    # (project, settings file or None) -> the project with those settings, in a `with`
    configured_project: Callable[[Path, Path | None], AbstractContextManager[Path]]


def _gcbm() -> ModelAdapter:
    from flintcloud.gcbm import reproduce as gcbm

    return ModelAdapter(
        kind="gcbm", rerun=gcbm.rerun, copy_project=gcbm.copy_project,
        editable_settings=gcbm.editable_settings, run_command=gcbm.run_command,
        metrics_command=lambda run_dir, target: ["flintcloud", "gcbm", "metrics", run_dir,
                                                 "-o", target],
        annual_table=gcbm.annual_table, chart_groups=gcbm.CHART_GROUPS,
        key_indicators=gcbm.KEY_INDICATORS, landscape=gcbm.landscape,
        configured_project=gcbm.configured_project)


_ADAPTERS: dict[str, Callable[[], ModelAdapter]] = {"gcbm": _gcbm}


def adapter_for(run: RunManifest) -> ModelAdapter:
    """The model adapter of a run's manifest `kind`, or an InputError (exit 2)."""
    if run.kind not in _ADAPTERS:
        raise InputError(f"runs of kind {run.kind!r} cannot be reproduced (known: "
                         f"{', '.join(sorted(_ADAPTERS))})", source=str(run.run_dir),
                         field="manifest.json: kind")
    return _ADAPTERS[run.kind]()


def columns_of(table: pd.DataFrame, names: tuple[str, ...]) -> list[str]:
    """The table's columns a chart group names (a name ending in "[" is a prefix)."""
    return [column for column in table.columns
            if any(column.startswith(name) if name.endswith("[") else column == name
                   for name in names)]


