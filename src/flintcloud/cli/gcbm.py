"""`flintcloud gcbm …`: run and prepare GCBM projects."""

from __future__ import annotations

import typer

gcbm_app = typer.Typer(no_args_is_help=True, help="Run and prepare GCBM projects.")
