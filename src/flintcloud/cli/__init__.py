"""The `flintcloud` command: what the service does, for people who never start a server.

Errors are turned into a one-line message and an exit code here, and only here:
0 ok, 1 unexpected, 2 invalid input or usage, 3 simulation failed, 4 not found, 130 interrupted.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

from flintcloud import __version__
from flintcloud.errors import FlintError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="FLINT and GCBM carbon models, natively in Python.")
state = {"debug": False, "json": False}


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    json_errors: Annotated[bool, typer.Option("--json", help="Print errors as JSON on stdout.")] = False,
) -> None:
    state["debug"], state["json"] = debug, json_errors
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


@app.command()
def run(
    config: Annotated[list[Path], typer.Option("--config", "-c", help="FLINT JSON config; repeat to merge (first wins).")],
    output_dir: Annotated[Path | None, typer.Option("--output-dir", "-o", help="Where output files go (default: current directory).")] = None,
    batch: Annotated[Path | None, typer.Option("--batch", help="CSV with one row per land unit: columns override pools and variables.")] = None,
    table_format: Annotated[str, typer.Option("--format", help="Batch table format: parquet or csv.")] = "parquet",
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes for a batch run.")] = 1,
) -> None:
    """Run a FLINT point configuration, like `moja.cli --config A --config B`."""
    from flintcloud.flint.config import load_config
    from flintcloud.flint.controller import run_config

    merged = load_config(config)
    if batch is None:
        # With --json, stdout carries the JSON error alone if the run fails: the screen output
        # is held back until the run has succeeded.
        held = io.StringIO() if state["json"] else None
        run_config(merged, output_dir=output_dir, screen=held or sys.stdout)
        if held is not None:
            sys.stdout.write(held.getvalue())
        sys.stdout.flush()
        return
    from flintcloud.io.tables import read_parameter_table
    from flintcloud.runner.batch import run_batch

    if table_format not in ("parquet", "csv"):
        raise typer.BadParameter("must be parquet or csv", param_hint="--format")
    ids, columns = read_parameter_table(batch)
    outputs = run_batch(merged, ids, columns, output_dir=output_dir or Path.cwd(),
                        source=batch.name, table_format=table_format, workers=workers)
    typer.echo(f"ran {outputs.n_land_units} land units; wrote " +
               ", ".join(str(path) for path in outputs.files), err=True)


@app.command()
def modules() -> None:
    """List the registered module libraries and their modules."""
    from flintcloud.flint.registry import default_registry

    for library, name, cls in default_registry().module_names():
        typer.echo(f"{library:28} {name:40} {cls.description}")


@app.command()
def version() -> None:
    """Print the flintcloud version."""
    typer.echo(f"flintcloud {__version__}")


@app.command()
def demo(
    output_dir: Annotated[Path, typer.Option("--output-dir", "-o")] = Path("output/examples"),
) -> None:
    """Run the bundled FLINT Point and RothC examples and say where their outputs are."""
    from flintcloud.runner.examples import run_examples

    for name, files in run_examples(output_dir).items():
        typer.echo(f"{name}: " + ", ".join(str(path) for path in files))


def _register_subcommands() -> None:
    from flintcloud.cli.gcbm import gcbm_app
    from flintcloud.cli.repro import export_dvc, report, reproduce
    from flintcloud.cli.service import service_app

    app.add_typer(gcbm_app, name="gcbm")
    app.command("reproduce")(reproduce)
    app.command("export-dvc")(export_dvc)
    app.command("report")(report)
    for command in service_app.registered_commands:  # serve, worker: top-level commands
        app.registered_commands.append(command)


_register_subcommands()


def main() -> None:
    """Console entry point: the CLI's single error boundary."""
    try:
        # with standalone_mode=False, click returns a command's typer.Exit code (not raises it)
        exit_code = app(standalone_mode=False)
        if isinstance(exit_code, int) and exit_code:
            sys.exit(exit_code)
    except FlintError as err:
        _fail(err.exit_code, err.code, err.message)
    except typer.Exit as err:
        sys.exit(err.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _fail(130, "interrupted", "interrupted")
    except Exception as err:
        if hasattr(err, "show") and hasattr(err, "exit_code"):  # click usage errors: exit code 2
            err.show()
            sys.exit(err.exit_code)
        _fail(1, "internal", f"unexpected error: {type(err).__name__}: {err}",
              "run with --debug for the traceback, and please report it")


def _fail(exit_code: int, code: str, message: str, hint: str | None = None) -> None:
    if state["debug"] and sys.exc_info()[0] is not None:
        traceback.print_exc()
    if state["json"]:
        print(json.dumps({"error": {"code": code, "message": message, "hint": hint}}))
    else:
        print(f"error: {message}" + (f" ({hint})" if hint else ""), file=sys.stderr)
    sys.exit(exit_code)


if __name__ == "__main__":
    main()
