"""Service test fixtures: an app on a temporary SQLite database, a worker whose `run_once()` the
tests call, and small factories for GeoTIFFs, input databases and zips."""

from __future__ import annotations

import contextlib
import io
import sqlite3
import threading
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient
from rasterio.transform import from_origin

from flintcloud.gcbm.inputs.checks import GCBM_TABLES
from flintcloud.service.app import create_app
from flintcloud.service.services import Services
from flintcloud.service.worker import Worker
from flintcloud.settings import Settings

SERVICE_TESTS = Path(__file__).resolve().parent


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


POSTGRESQL_URL_VARIABLE = "TEST_POSTGRESQL_URL"


@contextlib.contextmanager
def postgresql_database():
    """A new, empty PostgreSQL database for one test, dropped afterwards. The server comes from
    TEST_POSTGRESQL_URL (.ci/run starts one); without it the test fails in CI and
    skips elsewhere."""
    import os

    import sqlalchemy

    url = os.environ.get(POSTGRESQL_URL_VARIABLE)
    if not url:
        message = (f"no PostgreSQL server ({POSTGRESQL_URL_VARIABLE} is not set; "
                   "`bash .ci/run` starts one)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    name = f"flintcloud_test_{uuid.uuid4().hex[:12]}"
    admin = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sqlalchemy.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def make_settings(tmp_path: Path, **overrides) -> Settings:
    values = {"data_dir": tmp_path / "data", "workers": 0, "heartbeat_interval_s": 0.05,
              "heartbeat_timeout_s": 30.0, "sync_timeout_s": 60.0,
              "extra_processes": ["slow_process:SLOW"]}
    return Settings(**(values | overrides))


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def services(settings) -> Services:
    built = Services.build(settings)
    yield built
    built.database.dispose()


@pytest.fixture
def client(settings, services) -> TestClient:
    with TestClient(create_app(settings, services=services)) as test_client:
        yield test_client


@pytest.fixture
def worker(settings, services) -> Worker:
    return Worker(settings, database=services.database, registry=services.registry)


@pytest.fixture
def background_worker(worker):
    """A worker looping in a thread, for endpoints that wait for their job (sync execution)."""
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    yield worker
    worker.stop()
    thread.join(timeout=30)


def run_in_thread(function) -> threading.Thread:
    thread = threading.Thread(target=function, daemon=True)
    thread.start()
    return thread


# -- files ---------------------------------------------------------------------------------------

def make_geotiff(path: Path, values, *, origin=(-106.0, 55.0), resolution=0.00025,
                 crs="EPSG:4326", nodata=255, dtype="uint8") -> Path:
    values = np.asarray(values, dtype=dtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0],
                       count=1, dtype=dtype, crs=crs, nodata=nodata,
                       transform=from_origin(origin[0], origin[1], resolution, resolution)) as raster:
        raster.write(values, 1)
    return path


def make_input_db(path: Path, *, classifiers=None, disturbance_types=("Wildfire",)) -> Path:
    """An SQLite file with every table GCBM needs (empty but for the vocabulary given)."""
    classifiers = classifiers or {"Classifier1": ["TA", "BP"]}
    path.parent.mkdir(parents=True, exist_ok=True)
    statements = [f'CREATE TABLE "{table}" (id INTEGER PRIMARY KEY, name TEXT);' for table in GCBM_TABLES]
    statements += ["ALTER TABLE classifier_value ADD COLUMN classifier_id INTEGER;",
                   "ALTER TABLE classifier_value ADD COLUMN value TEXT;",
                   "CREATE TABLE extra_table (id INTEGER, label TEXT);",
                   "INSERT INTO transition (id) VALUES (1);"]
    connection = sqlite3.connect(path)
    connection.executescript("BEGIN;" + "".join(statements) + "COMMIT;")  # one fsync, not 40
    with connection:
        for classifier_id, (name, values) in enumerate(classifiers.items(), start=1):
            connection.execute("INSERT INTO classifier (id, name) VALUES (?, ?)", (classifier_id, name))
            connection.executemany("INSERT INTO classifier_value (classifier_id, value) VALUES (?, ?)",
                                   [(classifier_id, value) for value in values])
        connection.executemany("INSERT INTO disturbance_type (name) VALUES (?)",
                               [(name,) for name in disturbance_types])
    connection.close()
    return path


def small_project_files(folder: Path) -> dict[str, list[Path]]:
    """A small valid GCBM upload (the GCBM input tests' 40 x 40 cells on the demo's grid, with
    the demo's database plus an `extra_table`): 2 classifiers, a 2012 fire, age, temperature."""
    from tests.gcbm.inputs.fixtures import NODATA, small_rasters, upload_zip, write_raster

    files: dict[str, list[Path]] = {"classifiers": [], "disturbances": [], "miscellaneous": []}
    for name, data in small_rasters().items():
        category, file_name = name.split("/")
        files[category].append(write_raster(folder / file_name, data, nodata=NODATA[data.dtype]))
    database = folder / "gcbm_input.db"
    with zipfile.ZipFile(upload_zip()) as archive:
        database.write_bytes(archive.read("GCBM_New_Demo_Run/db/gcbm_input.db"))
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE extra_table (id INTEGER, label TEXT)")
    connection.close()
    return {**files, "db": [database]}


# In the former service's form: a flat mapping, keyed by file or layer name.
# No period or spatial unit is guessed for a new simulation: the small project names them.
SMALL_SETTINGS = {"start_year": 2010, "end_year": 2020, "admin_boundary": "British Columbia",
                  "eco_boundary": "Taiga Plains"}
SMALL_TABLES = {
    "Classifier1_moja.tiff": {"1": "TA", "2": "BP"},
    "Classifier2": {"1": "5"},
    "disturbances_2012": {"1": {"year": 2012, "disturbance_type": "Wildfire", "transition": 1}},
}
SMALL_ATTRIBUTES = {**SMALL_SETTINGS, "layers": {name: {"attributes": table}
                                                 for name, table in SMALL_TABLES.items()}}


def zip_bytes(members: dict[str, bytes], *, symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)  # S_IFLNK | 0777
            archive.writestr(info, target)
    return buffer.getvalue()


def multipart(files: dict[str, list[Path]]) -> list[tuple[str, tuple[str, bytes]]]:
    return [(field, (path.name, path.read_bytes())) for field, paths in files.items() for path in paths]


def demo_upload(folder: Path) -> dict[str, list[Path]]:
    """The files of upstream's raw GCBM upload demo, by upload category."""
    import zipfile

    from tests.conftest import shared_path

    with zipfile.ZipFile(shared_path("data/gcbm-demo/gcbm-upload-demo.zip")) as archive:
        archive.extractall(folder / "demo")
    root = folder / "demo" / "GCBM_New_Demo_Run"
    return {category: sorted((root / category).iterdir())
            for category in ("disturbances", "classifiers", "miscellaneous", "db")}


def demo_attributes() -> dict[str, dict]:
    """Each demo layer's attribute table, taken from the complete demo project's layer JSONs
    (raw rasters cannot say which value is which classifier value or disturbance)."""
    import json
    import zipfile

    from tests.conftest import shared_path

    with zipfile.ZipFile(shared_path("data/gcbm-demo/gcbm-project-demo.zip")) as archive:
        documents = {name: json.loads(archive.read(name)) for name in archive.namelist()
                     if name.startswith("layers/tiled/") and name.endswith(".json")}
    return {name.split("/")[-1][:-5]: document["attributes"]
            for name, document in documents.items() if "attributes" in document}
