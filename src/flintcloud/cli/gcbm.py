"""`flintcloud gcbm …`: run and prepare GCBM projects."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flintcloud.cli.gcbm_compile import compile_command, summary_command
from flintcloud.cli.gcbm_configure import configure
from flintcloud.cli.gcbm_db import build_db
from flintcloud.cli.gcbm_inputs import demo, prepare, validate
from flintcloud.errors import InputError

if TYPE_CHECKING:
    from rich.table import Table

    from flintcloud.gcbm.run import GcbmOutputs

gcbm_app = typer.Typer(no_args_is_help=True, help="Run and prepare GCBM projects.")


@gcbm_app.command("run")
def run(
    project: Annotated[Path, typer.Argument(help="GCBM project folder or zip.")],
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o",
                                             help="Where outputs go.")] = Path("output"),
    workers: Annotated[int, typer.Option(
        "--workers", "-w", min=0, help="Run blocks and maps in N local processes "
                                       "(0 or 1: in this one).")] = 0,
    dask_workers: Annotated[int, typer.Option(
        "--dask-workers", min=0, help="Run blocks on a local Dask cluster of N processes.")] = 0,
    mosaics: Annotated[bool, typer.Option(
        "--mosaics/--no-mosaics", help="Also write whole-area COGs per indicator and year "
                                       "(about a quarter of the outputs' work).")] = True,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Run blocks on the Dask cluster at this address (workers must see "
                            "the project folder and the output folder).")] = None,
    settings: Annotated[Path | None, typer.Option(
        "--settings", help="Run with these settings (YAML or JSON, as `export-dvc` writes "
                           "params.yaml), applied to a copy of the project.")] = None,
) -> None:
    """Simulate a GCBM project and write its outputs: GCBM's results database and GeoTIFFs,
    compiled indicators, annual summaries, pool_totals_by_year.csv, fluxes_by_year.csv,
    Cloud-Optimized GeoTIFFs and manifest.json."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from flintcloud.gcbm.reproduce import configured_project
    from flintcloud.gcbm.run import ProgressEvent, ProgressKind, run_gcbm

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[year]}"), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("blocks", total=None, year="")

        def on_progress(event: ProgressEvent) -> None:
            if event.kind is ProgressKind.START:
                progress.update(task, total=event.blocks_total)
            elif event.kind is ProgressKind.YEAR:
                progress.update(task, year=f"year {event.year}")
            else:
                progress.update(task, completed=event.blocks_done)

        with _executor(workers, dask_workers, scheduler) as executor, \
                configured_project(project, settings) as configured:
            outputs = run_gcbm(configured, output_dir, on_progress=on_progress,
                               executor=executor, mosaics=mosaics)
    Console().print(_summary_table(project.name, outputs))


@contextmanager
def _executor(workers: int, dask_workers: int, scheduler: str | None) -> Iterator[Executor | None]:
    """None (run here), a local process pool, or the executor of a Dask cluster's client."""
    if workers > 1 and (dask_workers or scheduler):
        raise InputError("--workers and --dask-workers/--scheduler exclude each other")
    if workers > 1:
        from flintcloud.gcbm.run import process_pool

        with process_pool(workers) as pool:
            yield pool
        return
    if not dask_workers and scheduler is None:
        yield None
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as err:
        raise InputError("dask is required to run blocks on a cluster",
                         hint="install flintcloud[dask]") from err
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client.get_executor(pure=False)
        return
    with LocalCluster(n_workers=dask_workers, threads_per_worker=1,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client.get_executor(pure=False)


def _summary_table(name: str, outputs: GcbmOutputs) -> Table:
    from rich.table import Table

    from flintcloud.gcbm.science.pools import ECOSYSTEM_POOLS, POOL_NAMES

    run = outputs.run
    totals = run.results.pool_totals_by_year()
    ecosystem = totals[totals.pool.isin([POOL_NAMES[p] for p in ECOSYSTEM_POOLS])]
    by_step = ecosystem.groupby("step")["total_tC"].sum()
    table = Table(title=f"GCBM run: {name}", show_header=False)
    table.add_row("pixels", f"{run.n_pixels:,}")
    table.add_row("area", f"{run.area_ha:,.2f} ha")
    table.add_row("blocks simulated", f"{run.n_blocks_simulated} of {run.n_blocks}")
    table.add_row("years", f"{run.start_year}-{run.start_year + run.n_steps - 1} "
                  f"({run.n_steps} steps)")
    table.add_row("ecosystem carbon", f"{by_step.iloc[0]:,.2f} tC after spinup, "
                  f"{by_step.iloc[-1]:,.2f} tC at the end")
    table.add_row("simulation time", f"{run.wall_seconds:.2f} s")
    table.add_row("outputs", f"{len(outputs.files)} files in {outputs.output_dir}")
    table.add_row("manifest", str(outputs.manifest))
    return table


gcbm_app.command("build-db")(build_db)
gcbm_app.command("compile")(compile_command)
gcbm_app.command("summary")(summary_command)
gcbm_app.command("prepare")(prepare)
gcbm_app.command("validate")(validate)
gcbm_app.command("demo")(demo)
gcbm_app.command("configure")(configure)


@gcbm_app.command("metrics")
def metrics(
    run_dir: Annotated[Path, typer.Argument(help="A GCBM run's output folder.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The metrics file (JSON).")],
) -> None:
    """Write a run's annual summary as DVC metrics: {year: {indicator: value}}."""
    from flintcloud.gcbm.reproduce import write_metrics

    write_metrics(run_dir, output)
