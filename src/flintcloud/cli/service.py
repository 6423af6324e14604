"""`flintcloud serve` and `flintcloud worker`: the REST service and its job workers.

Every option is also a setting (env var FLINTCLOUD_<NAME>); a flag wins over the environment.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

service_app = typer.Typer()


def _settings(**flags):
    from flintcloud.settings import Settings

    return Settings(**{name: value for name, value in flags.items() if value is not None})


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s", force=True)


@service_app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: 8080).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Job database and storage (default: ./flintcloud-data).")] = None,
    workers: Annotated[int | None, typer.Option(min=0, help="Worker processes, i.e. jobs run at once (default: 2).")] = None,
) -> None:
    """Start the REST API (OGC API - Processes, simulations, upstream FLINT.Cloud) and its workers."""
    from flintcloud.service.server import serve as run_server

    _log_to_stderr()
    run_server(_settings(host=host, port=port, data_dir=data_dir, workers=workers))


@service_app.command()
def worker(
    data_dir: Annotated[Path | None, typer.Option(help="Job database and storage (default: ./flintcloud-data).")] = None,
    processes: Annotated[int, typer.Option(min=1, help="Worker processes to run.")] = 1,
) -> None:
    """Run jobs from the service's database (set FLINTCLOUD_DATABASE_URL/_STORAGE_DIR to share one)."""
    from flintcloud.service.server import work

    _log_to_stderr()
    work(_settings(data_dir=data_dir), processes)
