"""`flintcloud gcbm …`: run and prepare GCBM projects."""

from __future__ import annotations

import typer

from flintcloud.cli.gcbm_db import build_db

gcbm_app = typer.Typer(no_args_is_help=True, help="Run and prepare GCBM projects.")
gcbm_app.command("build-db")(build_db)
