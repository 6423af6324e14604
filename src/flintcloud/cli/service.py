"""`flintcloud serve` and `flintcloud worker`: the REST service and its job workers."""

from __future__ import annotations

import typer

service_app = typer.Typer()
