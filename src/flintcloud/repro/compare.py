"""Two runs of one landscape compared: their annual indicators, the run's minus the baseline's
per year, and what differs in their manifests (inputs, settings, versions). One implementation
for `flintcloud report --baseline` and the service's `/simulations/{id}/compare`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from flintcloud.errors import InputError
from flintcloud.repro.manifest import (
    ManifestDifferences,
    RunManifest,
    compare_manifests,
    read_manifest,
)
from flintcloud.repro.models import ModelAdapter, adapter_for


@dataclass(frozen=True)
class RunComparison:
    """A run against a baseline: each one's annual table (one row per year, `year` first), the
    differences (run minus baseline, per year both simulated) and the manifests' differences."""

    run: RunManifest
    baseline: RunManifest
    adapter: ModelAdapter
    table: pd.DataFrame
    baseline_table: pd.DataFrame
    differences: pd.DataFrame
    changes: ManifestDifferences


def compare_runs(run_dir: str | Path, baseline_dir: str | Path) -> RunComparison:
    """`run_dir` against `baseline_dir`: an InputError when either is no run folder, or they are
    runs of other models or of other landscapes (tiles or pixel grid differ)."""
    run = read_manifest(run_dir)
    adapter = adapter_for(run)
    baseline = read_manifest(baseline_dir)
    check_comparable(run, baseline, adapter)
    table = adapter.annual_table(run.run_dir)
    baseline_table = adapter.annual_table(baseline.run_dir)
    return RunComparison(run, baseline, adapter, table, baseline_table,
                         table_differences(table, baseline_table),
                         compare_manifests(baseline, run))


def check_comparable(run: RunManifest, base: RunManifest, adapter: ModelAdapter) -> None:
    if base.kind != run.kind:
        raise InputError(f"the baseline is a {base.kind} run, this is a {run.kind} run",
                         source=str(base.run_dir))
    if adapter.landscape(base.document) != adapter.landscape(run.document):
        raise InputError("the baseline is a run of another landscape (tiles or pixel grid "
                         "differ)", source=str(base.run_dir),
                         hint="compare scenarios of one project")


def table_differences(table: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """Per year both runs simulated, each indicator both have: the run's value minus the
    baseline's."""
    columns = [c for c in table.columns if c != "year" and c in baseline.columns]
    merged = table[["year", *columns]].merge(baseline[["year", *columns]], on="year",
                                             suffixes=("", "__baseline"))
    out = pd.DataFrame({"year": merged["year"]})
    for column in columns:
        out[column] = merged[column] - merged[f"{column}__baseline"]
    return out
