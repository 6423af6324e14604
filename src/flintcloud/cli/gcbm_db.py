"""`flintcloud gcbm build-db`: make a gcbm_input.db from CBM-CFS3 defaults and yield tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def build_db(
    yield_table: Annotated[Path, typer.Option(
        "--yield-table", help="CSV: classifier columns, a species column, volumes by age "
                              "(columns 0,10,20,… or age and volume).")],
    admin_boundary: Annotated[str, typer.Option(
        "--admin-boundary", help='CBM admin boundary of the project, e.g. "British Columbia".')],
    eco_boundary: Annotated[str, typer.Option(
        "--eco-boundary", help='CBM eco boundary of the project, e.g. "Taiga Plains".')],
    output: Annotated[Path, typer.Option("--output", "-o", help="The gcbm_input.db to write.")],
    classifier: Annotated[list[str] | None, typer.Option(
        "--classifier", help="A classifier column, in GCBM's order; repeat. Default: every "
                             "column that is not species or volume.")] = None,
    species_column: Annotated[str, typer.Option(
        "--species-column", help="The column of CBM species names.")] = "species",
    cbm_defaults: Annotated[Path | None, typer.Option(
        "--cbm-defaults", help="A cbm_defaults SQLite database (default: libcbm's).")] = None,
    locale: Annotated[str, typer.Option(
        "--locale", help="Language of names in the database: en-CA, fr-CA or es-MX.")] = "en-CA",
) -> None:
    """Build GCBM's input database from CBM-CFS3 default parameters and yield tables."""
    from flintcloud.gcbm.inputs.input_db import build_input_db

    summary = build_input_db(
        output, yield_tables=yield_table, admin_boundary=admin_boundary,
        eco_boundary=eco_boundary, classifiers=classifier, species_column=species_column,
        cbm_defaults_path=cbm_defaults, locale=locale)
    typer.echo(f"wrote {summary.path}: {summary.n_growth_curves} growth curves "
               f"({summary.n_components} components), spatial unit {summary.spatial_unit_id} "
               f"= {admin_boundary} / {eco_boundary}, parameters from {summary.cbm_defaults_path}",
               err=True)
