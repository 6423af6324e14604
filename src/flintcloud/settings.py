"""Deployment settings of the service and its workers, from flags, `FLINTCLOUD_*` env vars and defaults.

Precedence: CLI flag > env var > default. Build one with `get_settings()` (cached, env only) or
`Settings(...)` directly (tests, CLI flags); nothing reads the environment at import time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flintcloud.errors import ConfigError

MiB = 1024 * 1024


class Settings(BaseSettings):
    """Every knob of `flintcloud serve` / `flintcloud worker`; env var = FLINTCLOUD_<FIELD NAME>."""

    model_config = SettingsConfigDict(env_prefix="FLINTCLOUD_", env_nested_delimiter="__",
                                      extra="ignore")

    # -- where things live ----------------------------------------------------------------------
    data_dir: Path = Field(Path("flintcloud-data"), description="Root of the job database and storage.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the job database (default: SQLite file in data_dir). "
                          "The SQL is portable; PostgreSQL needs its driver installed.")
    database_url_file: Path | None = Field(
        None, description="A file holding database_url (a mounted Kubernetes, Key Vault or Secret "
                          "Manager secret), read when database_url is unset: the URL's password "
                          "stays out of the environment.")
    storage_dir: Path | None = Field(None, description="Job and simulation files (default: data_dir/storage).")

    # -- HTTP -------------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535, description="Upstream FLINT.Cloud's port.")
    cors_origins: list[str] = Field(default_factory=list, description="Allowed browser origins.")
    auth_tokens: dict[str, str] = Field(
        default_factory=dict, repr=False,
        description="Bearer token -> owner name. Auth is on when this or auth_token_file is set.")
    auth_token_file: Path | None = Field(
        None, description="File of `token owner` lines (# comments allowed), merged with auth_tokens.")

    # -- workers and jobs -------------------------------------------------------------------------
    workers: int = Field(2, ge=0, description="Worker processes `serve` starts: the number of jobs "
                                              "that run at once (0: use `flintcloud worker`).")
    heartbeat_interval_s: PositiveFloat = Field(
        0.5, description="How often a worker records its heartbeat and the job's progress; also how "
                         "quickly a dismissed job's process is killed.")
    heartbeat_timeout_s: PositiveFloat = Field(
        30.0, description="A running job whose heartbeat is older than this is orphaned.")
    max_attempts: PositiveInt = Field(3, description="Runs of a job before an orphaned job fails.")
    idempotency_key_hours: PositiveFloat = Field(
        24.0, description="How long an Idempotency-Key is remembered: within it the same key and "
                          "request return the first job; after it the key starts a new job.")
    worker_niceness: int = Field(
        10, ge=0, le=19, description="Niceness of pooled worker processes (`serve`, `worker "
                                     "--processes N`) and their jobs: HTTP keeps priority.")
    poll_interval_s: PositiveFloat = Field(0.2, description="Idle worker's wait between claims.")
    job_start_method: Literal["fork", "spawn", "forkserver"] = Field(
        "fork", description="How a worker starts a job's process (fork: fast; the worker is "
                            "single-threaded, so forking it is safe).")
    sync_timeout_s: PositiveFloat = Field(
        300.0, description="How long a synchronous execution (/point, /rothc, sync execute) waits.")
    extra_processes: list[str] = Field(
        default_factory=list, description="Extra process plugins: `module:attribute` of a "
                                          "ProcessDefinition.")
    dask_scheduler: str | None = Field(
        None, description="Address of a Dask scheduler (`tcp://host:8786`): a GCBM job's blocks run "
                          "as tasks on its cluster, whose workers must see storage_dir at the same "
                          "path. Unset: blocks run in the job's process. Point and RothC stay local.")

    # -- uploads ----------------------------------------------------------------------------------
    max_upload_bytes: PositiveInt = Field(1024 * MiB, description="Largest request body (413 above).")
    max_json_bytes: PositiveInt = Field(16 * MiB, description="Largest JSON request body (413 above).")
    max_zip_members: PositiveInt = Field(10_000, description="Most members in an uploaded zip.")
    max_zip_uncompressed_bytes: PositiveInt = Field(8 * 1024 * MiB,
                                                    description="Largest total size once unzipped.")
    max_zip_ratio: PositiveFloat = Field(200.0, description="Largest compression ratio of a zip member.")

    # -- maps -------------------------------------------------------------------------------------
    map_basemap_url: str | None = Field(
        None, pattern=r"\{z\}.*\{x\}.*\{y\}|\{z\}.*\{y\}.*\{x\}",
        description="XYZ tile URL template of a basemap under the UI's maps, with {z}, {x}, {y} "
                    "(e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png, whose usage policy "
                    "then applies). Unset (default): no basemap, and the UI requests nothing "
                    "outside this server.")
    map_basemap_attribution: str = Field(
        "", description="Attribution shown on the map with the basemap (HTML allowed, e.g. "
                        "`&copy; OpenStreetMap contributors`).")

    # -- listings ---------------------------------------------------------------------------------
    default_page_size: PositiveInt = 20
    max_page_size: PositiveInt = 1000

    @model_validator(mode="after")
    def _fill_paths(self) -> Settings:
        # Derived defaults are filled here so that every consumer sees one resolved value.
        self.storage_dir = self.resolved_storage_dir
        self.database_url = self.resolved_database_url
        return self

    @property
    def resolved_storage_dir(self) -> Path:
        """`storage_dir`, or its default `data_dir/storage`."""
        return self.storage_dir if self.storage_dir is not None else self.data_dir / "storage"

    @property
    def resolved_database_url(self) -> str:
        """`database_url`, or its default: the SQLite file `data_dir/flintcloud.db`."""
        if self.database_url is not None:
            return self.database_url
        if self.database_url_file is not None:
            try:
                url = self.database_url_file.read_text().strip()
            except OSError as err:
                raise ConfigError(f"cannot read the database URL: {err.strerror}",
                                  source=str(self.database_url_file)) from err
            if not url:
                raise ConfigError("the file is empty, expected a database URL",
                                  source=str(self.database_url_file))
            return url
        return f"sqlite:///{(self.data_dir / 'flintcloud.db').resolve()}"

    def tokens(self) -> dict[str, str]:
        """All bearer tokens (token -> owner): the configured ones plus the token file's lines."""
        tokens = dict(self.auth_tokens)
        if self.auth_token_file is not None:
            for number, line in enumerate(self.auth_token_file.read_text().splitlines(), start=1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                parts = line.split()
                if len(parts) != 2:
                    raise ConfigError("expected `token owner`", source=str(self.auth_token_file),
                                      field=f"line {number}")
                tokens[parts[0]] = parts[1]
        return tokens


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, built once per process."""
    return Settings()
