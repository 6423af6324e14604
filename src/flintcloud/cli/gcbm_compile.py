"""`flintcloud gcbm compile` and `flintcloud gcbm summary`: compiled indicators of a GCBM run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from flintcloud.gcbm.outputs.layout import COMPILED_DB

FORMATS = ("csv", "json")

IndicatorsOption = Annotated[Path | None, typer.Option(
    "--indicators", help="Indicator definitions JSON (default: GCBM.CompileResults' defaults; "
                         "see docs/compiled-indicators.md).")]


def compile_command(
    results_db: Annotated[Path, typer.Argument(help="GCBM results database (gcbm_output.db).")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help=f"Compiled database to write (default: {COMPILED_DB} next to "
                               "the results database).")] = None,
    indicators: IndicatorsOption = None,
) -> None:
    """Compile a GCBM results database into GCBM.CompileResults' reporting tables (v_*)."""
    from flintcloud.gcbm.outputs.compiled import compile_results

    path = compile_results(results_db, output or results_db.with_name(COMPILED_DB),
                           indicators=indicators)
    typer.echo(f"wrote {path}", err=True)


def summary_command(
    db: Annotated[Path, typer.Argument(help="Compiled database, or a GCBM results database.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="File to write (.csv or .json); default: print on stdout.")] = None,
    output_format: Annotated[str | None, typer.Option(
        "--format", help="csv or json (default: from the --output suffix, else csv).")] = None,
    indicators: IndicatorsOption = None,
) -> None:
    """Annual summary: per year NPP, Rh, NEP, NBP, C stocks, emissions by gas, disturbed area."""
    from flintcloud.gcbm.outputs.compiled import (
        annual_summary,
        write_summary_csv,
        write_summary_json,
    )
    from flintcloud.gcbm.outputs.compiled.summary import summary_records

    output_format = output_format or ("json" if output and output.suffix == ".json" else "csv")
    if output_format not in FORMATS:
        raise typer.BadParameter("must be csv or json", param_hint="--format")
    summary = annual_summary(db, indicators=indicators)
    if output is None:
        if output_format == "json":
            import json

            typer.echo(json.dumps(summary_records(summary), ensure_ascii=False, indent=1))
        else:
            summary.to_csv(sys.stdout, index=False)
        return
    writer = write_summary_json if output_format == "json" else write_summary_csv
    typer.echo(f"wrote {writer(summary, output)}", err=True)
