"""`flintcloud gcbm …`: run and prepare GCBM projects."""

from __future__ import annotations

import typer

from flintcloud.cli.gcbm_compile import compile_command, summary_command

gcbm_app = typer.Typer(no_args_is_help=True, help="Run and prepare GCBM projects.")
gcbm_app.command("compile")(compile_command)
gcbm_app.command("summary")(summary_command)
