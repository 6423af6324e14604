"""A run's report in Markdown with PNG charts: its annual indicators, and against a baseline
run (another scenario of the same landscape) the differences per year and what differs in
their manifests (inputs, settings, versions): what CML posts on a pull request.

The tables are written next to the report as CSV too (`summary.csv`, `baseline.csv`,
`differences.csv`, full precision); the Markdown shows them rounded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from flintcloud.errors import InputError
from flintcloud.io.files import atomic_path
from flintcloud.repro.compare import compare_runs
from flintcloud.repro.manifest import ManifestDifferences, RunManifest, read_manifest
from flintcloud.repro.models import ModelAdapter, adapter_for, columns_of

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REPORT_FILE = "report.md"
MAX_SETTINGS = 40  # settings differences listed in the Markdown (all differ in the manifest)


@dataclass
class Report:
    folder: Path
    markdown: Path
    charts: list[Path]
    tables: dict[str, Path]


def _figure() -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise InputError("matplotlib is required to draw the report's charts",
                         hint="install flintcloud[report]") from err
    # a Figure without pyplot: no global state, no display, the Agg canvas on savefig
    return Figure(figsize=(8, 4.5), dpi=100, layout="constrained")


def write_report(run_dir: str | Path, target: str | Path,
                 baseline: str | Path | None = None) -> Report:
    """The report of `run_dir` (against `baseline`, a run of the same landscape) in `target`."""
    base = base_table = differences = changes = None
    if baseline is not None:
        comparison = compare_runs(run_dir, baseline)
        run, adapter, table = comparison.run, comparison.adapter, comparison.table
        base, base_table = comparison.baseline, comparison.baseline_table
        differences, changes = comparison.differences, comparison.changes
    else:
        run = read_manifest(run_dir)
        adapter = adapter_for(run)
        table = adapter.annual_table(run.run_dir)
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    tables = {"summary": _write_csv(table, target / "summary.csv")}
    if base_table is not None and differences is not None:
        tables["baseline"] = _write_csv(base_table, target / "baseline.csv")
        tables["differences"] = _write_csv(differences, target / "differences.csv")
    charts = [_chart(title, unit, table, base_table, adapter, target)
              for title, unit, names in adapter.chart_groups
              if columns_of(table, names)]
    text = _markdown(run, base, adapter, table, differences, changes, charts)
    markdown = target / REPORT_FILE
    with atomic_path(markdown) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Report(target, markdown, charts, tables)


def _write_csv(table: pd.DataFrame, path: Path) -> Path:
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)
    return path


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _chart(title: str, unit: str, table: pd.DataFrame, baseline: pd.DataFrame | None,
           adapter: ModelAdapter, target: Path) -> Path:
    names = next(names for t, _, names in adapter.chart_groups if t == title)
    figure = _figure()
    axes = figure.add_subplot()
    colours = [f"C{i}" for i in range(10)]
    for i, column in enumerate(columns_of(table, names)):
        colour = colours[i % len(colours)]
        axes.plot(table["year"], table[column], color=colour, marker="o", markersize=3,
                  label=column)
        if baseline is not None and column in baseline.columns:
            axes.plot(baseline["year"], baseline[column], color=colour, linestyle="--",
                      label=f"{column} (baseline)")
    axes.set_title(title)
    axes.set_xlabel("year")
    axes.set_ylabel(unit)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize="small")
    path = target / f"chart-{_slug(title)}.png"
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    return path


def _number(value: Any) -> str:
    return f"{value:,.3f}" if isinstance(value, float) else str(value)


def markdown_table(table: pd.DataFrame) -> str:
    """A table in Markdown, floats rounded to 3 decimals."""
    lines = ["| " + " | ".join(map(str, table.columns)) + " |",
             "|" + "|".join("---:" for _ in table.columns) + "|"]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_number(value) for value in row) + " |")
    return "\n".join(lines)


def _key_columns(table: pd.DataFrame, adapter: ModelAdapter) -> list[str]:
    return ["year", *[c for c in adapter.key_indicators if c in table.columns]]


def _markdown(run: RunManifest, base: RunManifest | None, adapter: ModelAdapter,
              table: pd.DataFrame, differences: pd.DataFrame | None,
              changes: ManifestDifferences | None, charts: list[Path]) -> str:
    environment = run.environment
    lines = [f"# Run report: {run.run_dir.name}", "",
             f"- model: {run.kind}; source: `{run.source}`",
             f"- finished: {run.document.get('finished', '?')}; flintcloud "
             f"{environment.get('flintcloud', '?')}, Python {environment.get('python', '?')}",
             f"- years: {int(table['year'].min())}–{int(table['year'].max())}"]
    if base is not None:
        lines.append(f"- baseline: {base.run_dir.name} (source `{base.source}`)")
    lines += ["", "## Annual indicators", ""]
    if base is not None:
        lines += ["Solid lines: this run; dashed: the baseline.", ""]
    lines += [f"![{chart.stem}]({chart.name})" for chart in charts]
    lines += ["", "## Annual summary", "", markdown_table(table[_key_columns(table, adapter)]),
              "", "Every indicator: [summary.csv](summary.csv).", ""]
    if differences is not None and changes is not None:
        lines += ["## Differences against the baseline (this run minus the baseline)", "",
                  markdown_table(differences[_key_columns(differences, adapter)]), "",
                  "Every indicator: [differences.csv](differences.csv).", "",
                  "## Manifest differences", ""]
        lines += _manifest_lines(changes)
    return "\n".join(lines) + "\n"


def _manifest_lines(changes: ManifestDifferences) -> list[str]:
    if not (changes.inputs or changes.settings or changes.versions):
        return ["Same inputs, settings and versions."]
    lines = []
    inputs = changes.inputs
    for label, paths in (("changed", inputs.changed), ("only in this run", inputs.added),
                         ("only in the baseline", inputs.removed)):
        if paths:
            lines.append(f"- inputs {label}: " + ", ".join(f"`{p}`" for p in paths))
    if changes.settings:
        lines += ["", "| setting | baseline | this run |", "|---|---|---|"]
        for change in changes.settings[:MAX_SETTINGS]:
            lines.append(f"| `{change.key}` | {_cell(change.before)} | {_cell(change.after)} |")
        if len(changes.settings) > MAX_SETTINGS:
            lines.append(f"| … {len(changes.settings) - MAX_SETTINGS} more | | |")
    if changes.versions:
        lines += ["", "| version | baseline | this run |", "|---|---|---|"]
        lines += [f"| {c.key} | {_cell(c.before)} | {_cell(c.after)} |" for c in changes.versions]
    if not changes.versions:
        lines += ["", "Same versions (flintcloud, Python, libraries)."]
    return lines


def _cell(value: Any) -> str:
    text = "—" if value is None else str(value)
    text = text if len(text) <= 80 else text[:77] + "…"
    return text.replace("|", "\\|")
