"""The job database: SQLAlchemy 2 tables for jobs, idempotency keys and simulations.

Written to run unchanged on SQLite (the default) and PostgreSQL: no dialect-specific SQL, JSON
columns through SQLAlchemy's JSON type, timestamps stored as naive UTC (SQLite has no time zones)
and turned back into aware datetimes on load.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from flintcloud.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime in Python, a naive UTC timestamp in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


# The statuses of a job that is queued or running (JobStatus.ACCEPTED, RUNNING).
ACTIVE_JOB = text("simulation_id IS NOT NULL AND status IN ('accepted', 'running')")


class JobRow(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(16))
    inputs: Mapped[dict] = mapped_column(JSON)
    simulation_id: Mapped[str | None] = mapped_column(String(36), default=None)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)
    started: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    worker_id: Mapped[str | None] = mapped_column(String(200), default=None)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    pid: Mapped[int | None] = mapped_column(Integer, default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_status: Mapped[int | None] = mapped_column(Integer, default=None)
    error_detail: Mapped[str | None] = mapped_column(Text, default=None)
    outputs: Mapped[dict | None] = mapped_column(JSON, default=None)

    __table_args__ = (
        Index("ix_jobs_status_created", "status", "created"),
        Index("ix_jobs_owner_created", "owner", "created"),
        Index("ix_jobs_simulation", "simulation_id"),
        # At most one active run per simulation, whatever the number of API processes racing
        # to start one: the second INSERT fails (a partial unique index; SQLite and PostgreSQL).
        Index("ux_jobs_active_simulation", "simulation_id", unique=True,
              sqlite_where=ACTIVE_JOB, postgresql_where=ACTIVE_JOB),
    )


class IdempotencyKeyRow(Base):
    """One (owner, Idempotency-Key) -> the job its first request created, and that request's hash."""

    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    created: Mapped[datetime] = mapped_column(UTCDateTime)


class SimulationRow(Base):
    __tablename__ = "simulations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), default="")
    title: Mapped[str] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)
    # the simulation this one was copied from as a scenario (its baseline); None when it was
    # not, or once the baseline is deleted
    scenario_of: Mapped[str | None] = mapped_column(String(36), default=None)

    __table_args__ = (UniqueConstraint("owner", "title", name="uq_simulations_owner_title"),)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL (readers never wait for the writer) and a busy timeout."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30)
    # A generous pool: a status read must never queue behind writers waiting for SQLite's lock.
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           pool_size=20, max_overflow=80)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


class Database:
    """An engine and its session factory; `create_schema()` is idempotent."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.session = sessionmaker(self.engine, expire_on_commit=False)

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)
        # create_all adds no index to a table that exists: a database of an earlier version
        # gets the indexes added since.
        for index in Base.metadata.tables[JobRow.__tablename__].indexes:
            index.create(self.engine, checkfirst=True)
        self._add_new_columns()

    def _add_new_columns(self) -> None:
        """Nullable columns added to a table since a database was made (create_all adds none
        to a table that exists): ALTER TABLE ADD COLUMN, the same on SQLite and PostgreSQL."""
        for table in Base.metadata.sorted_tables:
            present = {column["name"] for column in inspect(self.engine).get_columns(table.name)}
            for column in table.columns:
                if column.name in present or not column.nullable:
                    continue
                kind = column.type.compile(dialect=self.engine.dialect)
                try:
                    with self.engine.begin() as connection:
                        connection.execute(text(
                            f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
                except DBAPIError:
                    # another process starting on the same database added it first
                    names = {c["name"] for c in inspect(self.engine).get_columns(table.name)}
                    if column.name not in names:
                        raise

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings) -> Database:
    """The settings' database with its tables created (SQLite: its directory too)."""
    url = settings.resolved_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(url)
    database.create_schema()
    return database
