"""`flintcloud reproduce | export-dvc | report`: thin over `flintcloud.repro`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flintcloud.errors import SimulationError

RUN_DIR = typer.Argument(help="A run's output folder (with manifest.json).")
PROJECT = typer.Option("--project", "-p", help="The run's project (folder or zip); default: "
                                               "the one its manifest names.")


def reproduce(
    run_dir: Annotated[Path, RUN_DIR],
    project: Annotated[Path | None, PROJECT] = None,
    output_dir: Annotated[Path | None, typer.Option(
        "--output-dir", "-o", help="Keep the new run here (default: a temporary folder).")] = None,
) -> None:
    """Run a run again from its manifest and compare every input and output by sha256.
    Exit 0 when identical, 3 naming what changed."""
    from flintcloud.repro.reproduce import format_verdict, reproduce

    verdict = reproduce(run_dir, project, output_dir)
    for line in format_verdict(verdict):
        typer.echo(line)
    if not verdict.reproduced:
        raise typer.Exit(SimulationError.exit_code)


def export_dvc(
    run_dir: Annotated[Path, RUN_DIR],
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o",
                                             help="The pipeline's folder (new or empty).")],
    project: Annotated[Path | None, PROJECT] = None,
) -> None:
    """Write a DVC pipeline (dvc.yaml, params.yaml, the project's files) that makes the run
    again: `git init && dvc init && dvc repro` in its folder."""
    from flintcloud.repro.dvc import export_dvc

    pipeline = export_dvc(run_dir, output_dir, project)
    for warning in pipeline.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"wrote {', '.join(path.name for path in pipeline.files)} and project/ in "
               f"{pipeline.folder}; run: cd {pipeline.folder} && git init && dvc init && "
               "dvc repro")


def report(
    run_dir: Annotated[Path, RUN_DIR],
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o", help="The report's folder.")],
    baseline: Annotated[Path | None, typer.Option(
        "--baseline", "-b", help="Another run of the same landscape to compare with.")] = None,
) -> None:
    """A Markdown report with charts of the annual indicators and, against a baseline run,
    the differences per year and of the manifests (needs the `report` extra:
    pip install "flintcloud\\[report]")."""
    from flintcloud.repro.report import write_report

    written = write_report(run_dir, output_dir, baseline)
    typer.echo(f"wrote {written.markdown} with {len(written.charts)} charts")
