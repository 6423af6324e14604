"""`flintcloud gcbm prepare | validate | demo`: GCBM projects from raw inputs
(docs/gcbm-inputs.md). Problems are reported all at once, exit code 2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Source = Annotated[Path, typer.Argument(
    help="Inputs: upstream's upload form (classifiers/, disturbances/, miscellaneous/, db/), a "
         "folder with project.yaml, or a complete GCBM project; a folder or a zip.")]
Attributes = Annotated[Path | None, typer.Option(
    "--attributes", help="Attributes file (YAML, JSON or CSV): layer attribute tables, dates, "
                         "spatial unit.")]
StartYear = Annotated[int | None, typer.Option("--start-year", help="First simulated year.")]
EndYear = Annotated[int | None, typer.Option("--end-year", help="Last simulated year.")]
Admin = Annotated[str | None, typer.Option("--admin-boundary",
                                           help='e.g. "British Columbia".')]
Eco = Annotated[str | None, typer.Option("--eco-boundary", help='e.g. "Taiga Plains".')]
AlignOption = Annotated[str | None, typer.Option(
    "--align", help="Rasters off the first classifier's grid: reject (default) or reproject.")]


def _align(value: str | None) -> str | None:
    if value not in (None, "reject", "reproject"):
        raise typer.BadParameter("must be reject or reproject", param_hint="--align")
    return value


def prepare(
    source: Source,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o",
                                             help="The project folder to create (new or empty).")],
    attributes: Attributes = None, start_year: StartYear = None, end_year: EndYear = None,
    admin_boundary: Admin = None, eco_boundary: Eco = None, align: AlignOption = None,
) -> None:
    """Turn raw rasters and tables into a runnable GCBM project, after checking everything."""
    from flintcloud.gcbm.inputs import Role, get_config, prepare_project

    config = prepare_project(source, output_dir, attributes=attributes, start_year=start_year,
                             end_year=end_year, admin_boundary=admin_boundary,
                             eco_boundary=eco_boundary, align=_align(align))
    settings = get_config(config)
    roles = [layer.role for layer in settings.layers.values()]
    typer.echo(f"prepared {config.parent}: {len(roles)} layers "
               f"({roles.count(Role.CLASSIFIER)} classifiers, {roles.count(Role.DISTURBANCE)} "
               f"disturbance layers), {settings.start_year}-{settings.end_year}, "
               f"{settings.admin_boundary} / {settings.eco_boundary}", err=True)
    typer.echo(f"run it with: flintcloud gcbm run {config.parent}", err=True)


def validate(
    source: Source, attributes: Attributes = None, start_year: StartYear = None,
    end_year: EndYear = None, admin_boundary: Admin = None, eco_boundary: Eco = None,
    align: AlignOption = None,
) -> None:
    """Check GCBM inputs and list every problem (exit code 2), or summarise the project."""
    from flintcloud.gcbm.inputs import validate_inputs

    report = validate_inputs(source, attributes=attributes, start_year=start_year,
                             end_year=end_year, admin_boundary=admin_boundary,
                             eco_boundary=eco_boundary, align=_align(align))
    typer.echo(f"{source.name}: valid ({report.form} form)")
    typer.echo(f"  grid: {report.cell_size}° cells; tiles "
               f"{', '.join(str(tile.index) for tile in report.tiles)}; "
               f"{report.n_pixels:,} pixels with every classifier")
    unit = f"spatial unit {report.spatial_unit_id} ({report.admin_boundary} / " \
        f"{report.eco_boundary})" if report.spatial_unit_id is not None else \
        "spatial units from layers"
    typer.echo(f"  period: {report.start_year}-{report.end_year}; {unit}")
    for layer in report.layers:
        extra = f", attributes from {layer['attributes_source']}" \
            if layer["attributes_source"] else ""
        moved = ", reprojected" if layer["reprojected"] else ""
        typer.echo(f"  {layer['role']:12} {layer['name']} ({layer['file']}{extra}{moved})")
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)


def demo(
    blocks: Annotated[int, typer.Option("--blocks", min=1, max=100,
                                        help="0.1° blocks of data (160,000 cells each).")] = 1,
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o",
                                             help="Where project/ and output/ go.")
                          ] = Path("gcbm-demo"),
    run: Annotated[bool, typer.Option("--run/--no-run", help="Run it after writing it.")] = True,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic landscape.")] = 42,
    cbm_defaults: Annotated[Path | None, typer.Option(
        "--cbm-defaults", help="A cbm_defaults SQLite database (default: libcbm's).")] = None,
) -> None:
    """Write (and run) a synthetic GCBM project that needs no downloaded data; its input
    database is built from libcbm's CBM-CFS3 defaults."""
    import time

    from flintcloud.gcbm.inputs.demo import write_demo_project

    started = time.perf_counter()
    config = write_demo_project(output_dir / "project", n_blocks=blocks, seed=seed,
                                cbm_defaults_path=cbm_defaults)
    typer.echo(f"wrote {config.parent} in {time.perf_counter() - started:.1f} s", err=True)
    if run:
        # Imported here: cli.gcbm registers this module's commands when it is imported.
        from flintcloud.cli.gcbm import run as run_project

        run_project(config.parent, output_dir / "output")
