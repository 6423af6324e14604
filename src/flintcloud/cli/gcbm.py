"""`flintcloud gcbm …`: run and prepare GCBM projects."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flintcloud.cli.gcbm_db import build_db

gcbm_app = typer.Typer(no_args_is_help=True, help="Run and prepare GCBM projects.")


@gcbm_app.command("run")
def run(
    project: Annotated[Path, typer.Argument(help="GCBM project folder or zip.")],
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o",
                                             help="Where outputs go.")] = Path("output"),
) -> None:
    """Simulate a GCBM project and write pool_totals_by_year.csv and fluxes_by_year.csv."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from flintcloud.io.gcbm.outputs import write_summary_csvs
    from flintcloud.runner.gcbm import run_project

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[year]}"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("blocks", total=None, year="")

        def on_progress(event) -> None:
            if event.kind == "start":
                progress.update(task, total=event.blocks_total)
            elif event.kind == "year":
                progress.update(task, year=f"year {event.year}")
            else:
                progress.update(task, completed=event.blocks_done)

        result = run_project(project, on_progress=on_progress)
    files = write_summary_csvs(result.results, output_dir)
    totals = result.results.pool_totals_by_year()
    last = totals[totals.step == totals.step.max()]
    eco = last[~last.pool.isin(["Atmosphere", "CO2", "CH4", "CO", "NO2", "Products",
                                "BlackCarbon", "Peat", "DissolvedOrganicCarbon"])]
    table = Table(title=f"GCBM run: {project.name}", show_header=False)
    table.add_row("pixels", f"{result.n_pixels:,}")
    table.add_row("area", f"{result.area_ha:,.2f} ha")
    table.add_row("blocks simulated", f"{result.n_blocks_simulated} of {result.n_blocks}")
    table.add_row("years", f"{result.start_year}-{result.start_year + result.n_steps - 1} "
                  f"({result.n_steps} steps)")
    table.add_row("ecosystem carbon at the end", f"{eco.total_tC.sum():,.2f} tC")
    table.add_row("wall time", f"{result.wall_seconds:.2f} s")
    for path in files:
        table.add_row("wrote", str(path))
    Console().print(table)


gcbm_app.command("build-db")(build_db)
