"""Simulations: GCBM inputs built up by uploads and settings edits, then run as jobs.

Upstream keyed everything by a user-chosen title; here a simulation has an id (uuid4) and a
title unique per owner, so upstream's title-based endpoints map onto the same resource.

A simulation's `inputs/` folder is in the upload form of `flintcloud.gcbm.inputs`
(docs/gcbm-inputs.md): `classifiers/`, `disturbances/`, `miscellaneous/`, `db/gcbm_input.db` and
`attributes.json`, the attributes file that holds the simulation's settings. The service has no
GCBM rules of its own: an upload or an edit is refused when `check_files` finds a problem in a
file, a simulation is ready when `prepare_project` makes its project, and `flintcloud gcbm
validate <storage>/simulations/<id>/inputs` gives the same answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import numpy as np
import rasterio
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flintcloud.errors import InputError, InputProblems, NotFoundError, RasterError
from flintcloud.gcbm.inputs import check_files, get_config, prepare_project
from flintcloud.gcbm.inputs.checks import GCBM_TABLES, InputDatabase
from flintcloud.gcbm.inputs.convert import project_to_upload_form
from flintcloud.gcbm.inputs.description import Description, read_description
from flintcloud.gcbm.inputs.forms import ATTRIBUTES_NAMES, RASTER_SUFFIXES
from flintcloud.gcbm.inputs.grid import GDAL_TYPES, inspect_raster
from flintcloud.gcbm.inputs.model import Problems, layer_name_from_file
from flintcloud.gcbm.outputs import catalogue as gcbm_outputs
from flintcloud.io.archive import extract_zip
from flintcloud.service import maps
from flintcloud.service.db import Database, SimulationRow, utc_now
from flintcloud.service.errors import (
    ConflictError,
    FieldErrors,
    ForbiddenError,
    UnsupportedFileError,
    error_item,
)
from flintcloud.service.jobs import Job, JobService, JobStatus
from flintcloud.service.storage import Storage
from flintcloud.service.uploads import ZipLimits, copy_limited, safe_filename


class Category(StrEnum):
    """Upstream's upload categories (form field and folder names)."""

    DISTURBANCES = "disturbances"
    CLASSIFIERS = "classifiers"
    MISCELLANEOUS = "miscellaneous"
    DB = "db"


RASTER_CATEGORIES = (Category.DISTURBANCES, Category.CLASSIFIERS, Category.MISCELLANEOUS)
DB_SUFFIXES = (".db", ".sqlite", ".sqlite3")
INPUT_DB_NAME = "gcbm_input.db"  # the name upstream's endpoints (and GCBM's config) expect
SETTINGS_FILE = "attributes.json"  # the upload form's attributes file: the settings
# Upstream's templates simulated 2010-2020 in British Columbia / Taiga Plains (its demo's spatial
# unit); a new simulation starts with those settings, so that upstream's clients run the demo.
DEFAULT_SETTINGS = {"start_year": 2010, "end_year": 2020, "admin_boundary": "British Columbia",
                    "eco_boundary": "Taiga Plains"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


@dataclass(frozen=True)
class Simulation:
    id: str
    owner: str
    title: str
    created: datetime
    updated: datetime

    @classmethod
    def from_row(cls, row: SimulationRow) -> Simulation:
        return cls(row.id, row.owner, row.title, row.created, row.updated)


@dataclass(frozen=True)
class IncomingFile:
    """One uploaded file as the HTTP layer hands it over: its client-side name and a stream."""

    filename: str | None
    stream: BinaryIO


def upstream_title(title: str | None) -> str:
    """Upstream's rule: alphanumerics only, `simulation` when empty."""
    cleaned = "".join(character for character in (title or "") if character.isalnum())
    return cleaned or "simulation"


def quote_identifier(name: str) -> str:
    """An SQL identifier, double-quoted (only ever applied to names checked against the schema)."""
    return '"' + name.replace('"', '""') + '"'


class SimulationService:
    def __init__(self, database: Database, storage: Storage, jobs: JobService, *,
                 max_upload_bytes: int, zip_limits: ZipLimits) -> None:
        self.db = database
        self.storage = storage
        self.jobs = jobs
        self.max_upload_bytes = max_upload_bytes
        self.zip_limits = zip_limits
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)

    # -- the resource -----------------------------------------------------------------------------
    def create(self, title: str, *, owner: str) -> tuple[Simulation, bool]:
        """The owner's simulation with this title, created if needed. Returns (simulation, created)."""
        title = title.strip()
        if not title or len(title) > 200:
            raise InputError("must be 1 to 200 characters", field="title")
        existing = self.find(title, owner=owner)
        if existing is not None:
            return existing, False
        now = utc_now()
        row = SimulationRow(id=str(uuid.uuid4()), owner=owner, title=title, created=now, updated=now)
        try:
            with self.db.session.begin() as session:
                session.add(row)
        except IntegrityError:  # created concurrently by a twin request
            return self.find(title, owner=owner), False
        inputs = self.storage.simulation_dir(row.id) / "inputs"
        for category in Category:
            (inputs / category).mkdir(parents=True, exist_ok=True)
        _write_settings(inputs, DEFAULT_SETTINGS)
        return Simulation.from_row(row), True

    def find(self, title: str, *, owner: str) -> Simulation | None:
        with self.db.session() as session:
            row = session.scalar(select(SimulationRow).where(SimulationRow.owner == owner,
                                                             SimulationRow.title == title))
            return Simulation.from_row(row) if row else None

    def by_title(self, title: str, *, owner: str) -> Simulation:
        simulation = self.find(title, owner=owner)
        if simulation is None:
            raise NotFoundError(f"no simulation titled {title!r}", field="title",
                                hint="create it with /gcbm/new")
        return simulation

    def get(self, simulation_id: str, *, owner: str | None) -> Simulation:
        try:
            uuid.UUID(simulation_id)
        except ValueError:
            raise NotFoundError(f"no simulation {simulation_id!r}") from None
        with self.db.session() as session:
            row = session.get(SimulationRow, simulation_id)
        if row is None:
            raise NotFoundError(f"no simulation {simulation_id!r}")
        if owner is not None and row.owner != owner:
            raise ForbiddenError(f"simulation {simulation_id!r} belongs to another user")
        return Simulation.from_row(row)

    def list(self, *, owner: str | None) -> list[Simulation]:
        query = select(SimulationRow).order_by(SimulationRow.created)
        if owner is not None:
            query = query.where(SimulationRow.owner == owner)
        with self.db.session() as session:
            return [Simulation.from_row(row) for row in session.scalars(query)]

    def delete(self, simulation: Simulation) -> None:
        active = self.active_job(simulation)
        if active is not None:
            raise ConflictError(f"simulation {simulation.title!r} is running (job {active.id}); "
                                "dismiss the job first")
        with self.db.session.begin() as session:
            session.execute(SimulationRow.__table__.delete().where(SimulationRow.id == simulation.id))
        shutil.rmtree(self.storage.simulation_dir(simulation.id), ignore_errors=True)

    def _touch(self, simulation: Simulation) -> None:
        with self.db.session.begin() as session:
            row = session.get(SimulationRow, simulation.id)
            if row is not None:
                row.updated = utc_now()

    # -- inputs -----------------------------------------------------------------------------------
    def inputs_dir(self, simulation: Simulation) -> Path:
        return self.storage.simulation_dir(simulation.id) / "inputs"

    def add_files(self, simulation: Simulation, files: list[IncomingFile], *,
                  category: Category | None = None, attributes: str | None = None) -> list[dict]:
        """Receive files of one category (or of the categories their zip folders name)."""
        return self.add_files_by_category(simulation, [(category, incoming) for incoming in files],
                                          attributes=attributes)

    def add_files_by_category(self, simulation: Simulation,
                              files: list[tuple[Category | None, IncomingFile]], *,
                              attributes: str | None = None) -> list[dict]:
        """Receive files (a zip is unpacked; its folders name the categories) and attributes
        files, check the inputs they make with what is already there, keep all or nothing."""
        staging = self.storage.new_staging_dir()
        try:
            received, documents = self._receive(files, staging)
            if attributes:  # JSON or YAML text; YAML also reads JSON, but its errors say YAML
                form = staging / ("attributes.json" if attributes.lstrip().startswith("{")
                                  else "attributes.yaml")
                form.write_text(attributes, encoding="utf-8")
                documents.insert(0, form)
            with self._locks[simulation.id]:
                settings = self.settings(simulation)
                for document in documents:
                    settings = _with_document(settings, _read_document(document))
                candidate = self._candidate(simulation, received, staging / "candidate" / "inputs")
                _write_settings(candidate, _validated(settings)[0])
                check_files(candidate)
                retired = staging / "retired"
                os.replace(self.inputs_dir(simulation), retired)
                os.replace(candidate, self.inputs_dir(simulation))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._touch(simulation)
        return [{"category": str(c), "name": path.name} for c, path in received]

    def _receive(self, files: list[tuple[Category | None, IncomingFile]],
                 staging: Path) -> tuple[list[tuple[Category, Path]], list[Path]]:
        received: list[tuple[Category, Path]] = []
        documents: list[Path] = []
        for number, (category, incoming) in enumerate(files):
            name = safe_filename(incoming.filename)
            landing = staging / "received" / str(number)
            landing.mkdir(parents=True)
            path = landing / name
            copy_limited(incoming.stream, path, limit=self.max_upload_bytes, label=name)
            if name.lower().endswith(".zip"):
                unpacked = staging / "unpacked" / str(number)
                limits = self.zip_limits
                extract_zip(path, unpacked, max_bytes=limits.max_total_bytes,
                            max_members=limits.max_members, max_ratio=limits.max_ratio)
                if any(unpacked.rglob("gcbm_config.cfg")):  # a complete GCBM project
                    unpacked = project_to_upload_form(unpacked, staging / "converted" / str(number))
                for member in sorted(p for p in unpacked.rglob("*") if p.is_file()):
                    relative = PurePosixPath(member.relative_to(unpacked).as_posix())
                    if relative.name in ATTRIBUTES_NAMES:
                        documents.append(member)
                        continue
                    kept = member.with_name(safe_filename(member.name))
                    member.rename(kept)
                    received.append((self._category_of(relative, category, name), kept))
            else:
                received.append((self._category_of(PurePosixPath(name), category, name), path))
        return received, documents

    @staticmethod
    def _category_of(relative: PurePosixPath, given: Category | None, label: str) -> Category:
        for part in relative.parts[:-1]:  # a zip's folder names the category, as upstream lays it out
            if part in Category.__members__.values():
                return Category(part)
        if given is not None:
            return given
        if relative.suffix.lower() in DB_SUFFIXES:
            return Category.DB
        raise UnsupportedFileError(
            f"{relative}: cannot tell whether it is a disturbance, classifier or miscellaneous layer",
            [{"field": f"{label}:{relative}", "message": "put it in a disturbances/, classifiers/ "
              "or miscellaneous/ folder, or upload it with a category"}], source=label)

    def _candidate(self, simulation: Simulation, received: list[tuple[Category, Path]],
                   target: Path) -> Path:
        """The inputs with the received files in place: a copy of hard links (the files are
        only ever replaced, never written in place). A raster replaces its layer's file."""
        shutil.copytree(self.inputs_dir(simulation), target, copy_function=os.link)
        problems = []
        for category, path in received:
            if category is Category.DB:
                ok = path.suffix.lower() in DB_SUFFIXES
                destination = target / category / INPUT_DB_NAME
            else:
                ok = path.suffix.lower() in RASTER_SUFFIXES
                destination = target / category / path.name
                for other in RASTER_CATEGORIES:
                    for existing in _rasters(target / other):
                        if layer_name_from_file(existing) != layer_name_from_file(path):
                            continue
                        if other is not category:
                            problems.append(InputError(
                                f"layer {layer_name_from_file(path)} is already a {other} layer",
                                source=path.name, field=str(category)))
                        existing.unlink()
            if not ok:
                problems.append(InputError(
                    "expected an SQLite database (.db, .sqlite or .sqlite3)"
                    if category is Category.DB else "expected a GeoTIFF (.tif or .tiff)",
                    source=path.name, field=str(category)))
                continue
            os.replace(path, destination)
        if problems:
            raise InputProblems(problems, source="upload")
        return target

    def remove_file(self, simulation: Simulation, category: Category, name: str) -> None:
        """Remove one input; a layer's settings (its attribute table) go with its raster."""
        with self._locks[simulation.id]:
            path = self.storage.resolve_inside(self.inputs_dir(simulation) / category,
                                               safe_filename(name))
            path.unlink()
            settings = self.settings(simulation)
            if category is not Category.DB and \
                    settings.get("layers", {}).pop(layer_name_from_file(path), None) is not None:
                _write_settings(self.inputs_dir(simulation), settings)
        self._touch(simulation)

    def describe_inputs(self, simulation: Simulation) -> dict:
        with self._locks[simulation.id]:
            inputs = self.inputs_dir(simulation)
            layers = self.settings(simulation).get("layers", {})
            described: dict[str, list] = {category.value: [] for category in Category}
            for category in RASTER_CATEGORIES:
                for path in _rasters(inputs / category):
                    name = layer_name_from_file(path)
                    described[category].append({
                        "name": path.name, "layer": name, "size": path.stat().st_size,
                        "raster": _raster_summary(path),
                        "has_attributes": bool(layers.get(name, {}).get("attributes"))})
            database = inputs / Category.DB / INPUT_DB_NAME
            if database.is_file():
                described[Category.DB].append({"name": INPUT_DB_NAME,
                                               "size": database.stat().st_size})
        return described

    # -- the project ------------------------------------------------------------------------------
    def _prepared(self, simulation: Simulation) -> dict:
        """The simulation's GCBM project, made by `prepare_project` from its inputs and kept in
        `prepared/project` until they change. Returns {"inputs": their fingerprint, "detail",
        "errors"}: no errors, the project is ready. Call with the simulation's lock held."""
        directory = self.storage.simulation_dir(simulation.id) / "prepared"
        fingerprint = _fingerprint(self.inputs_dir(simulation))
        state_path = directory / "state.json"
        if state_path.is_file():
            state = json.loads(state_path.read_text(encoding="utf-8"))
            if state["inputs"] == fingerprint:
                return state
        shutil.rmtree(directory, ignore_errors=True)  # job snapshots hold their own links
        directory.mkdir(parents=True)
        state = {"inputs": fingerprint, "detail": None, "errors": []}
        try:
            prepare_project(self.inputs_dir(simulation), directory / "project")
        except InputError as err:
            problems = err.problems if isinstance(err, InputProblems) else [err]
            state.update(detail=err.message, errors=[error_item(p) for p in problems])
        state_path.write_text(json.dumps(state), encoding="utf-8")
        return state

    def _project(self, simulation: Simulation) -> Path:
        """The prepared project, or a 422 listing every problem. Call with the lock held."""
        state = self._prepared(simulation)
        if state["errors"]:
            raise FieldErrors(f"the simulation cannot run yet: {state['detail']}", state["errors"])
        return self.storage.simulation_dir(simulation.id) / "prepared" / "project"

    def readiness(self, simulation: Simulation) -> list[dict]:
        """What stops the simulation from running: every problem `validate_inputs` finds."""
        with self._locks[simulation.id]:
            return self._prepared(simulation)["errors"]

    def config_document(self, simulation: Simulation, name: str) -> dict:
        """One file of the prepared project by upstream's getConfig name: a config file's stem
        (`localdomain`), a layer (`Classifier1`) or an uploaded raster's stem
        (`Classifier1_moja`). Names are looked up, never used as paths."""
        with self._locks[simulation.id]:
            project = self._project(simulation)
            documents = {path.stem: path for folder in ("config", "layers/tiled")
                         for path in sorted((project / folder).glob("*.json"))}
            key = name if name in documents else layer_name_from_file(Path(name))
            if key not in documents:
                raise NotFoundError(f"no configuration file {name!r}", field="file_name",
                                    hint=f"files: {', '.join(sorted(documents))}")
            return json.loads(documents[key].read_text(encoding="utf-8"))

    # -- settings ---------------------------------------------------------------------------------
    def settings(self, simulation: Simulation) -> dict:
        """The settings as stored: the inputs' attributes file, as given (no defaults added)."""
        path = self.inputs_dir(simulation) / SETTINGS_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def config(self, simulation: Simulation) -> Description:
        return Description.model_validate(self.settings(simulation))

    def update_config(self, simulation: Simulation, patch: dict[str, Any]) -> Description:
        """A JSON merge patch (RFC 7396) of the settings, checked like an uploaded attributes
        file; the former names (start_date, end_date, attributes, variables) still work."""
        if not isinstance(patch, dict):
            raise InputError("the configuration patch must be a JSON object", field="config")
        with self._locks[simulation.id]:
            settings, description = _validated(_merge_patch(
                self.settings(simulation), _by_layer_name(_from_former_names(patch))))
            staging = self.storage.new_staging_dir()
            try:
                _write_settings(staging, settings)
                check_files(self.inputs_dir(simulation), attributes=staging / SETTINGS_FILE)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
            _write_settings(self.inputs_dir(simulation), settings)
        self._touch(simulation)
        return description

    # -- the input database -----------------------------------------------------------------------
    def _database(self, simulation: Simulation) -> Path:
        path = self.inputs_dir(simulation) / Category.DB / INPUT_DB_NAME
        if not path.is_file():
            raise NotFoundError(f"simulation {simulation.title!r} has no input database",
                                hint="upload gcbm_input.db first")
        return path

    @staticmethod
    def _schema(connection: sqlite3.Connection) -> dict[str, list[str]]:
        tables = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        return {table: [row[0] for row in connection.execute(
            "SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))] for table in tables}

    def tables(self, simulation: Simulation) -> dict[str, list[str]]:
        connection = sqlite3.connect(f"file:{self._database(simulation)}?mode=ro", uri=True)
        try:
            return self._schema(connection)
        finally:
            connection.close()

    @staticmethod
    def _check_new_name(new: str, existing: list[str], field: str) -> None:
        if not _IDENTIFIER.match(new or ""):
            raise InputError(f"{new!r} is not a valid name (letters, digits and _, not starting with "
                             "a digit, at most 128 characters)", field=field)
        if new.lower().startswith("sqlite_"):
            raise InputError("names starting with sqlite_ are reserved", field=field)
        if new.lower() in (name.lower() for name in existing):
            raise InputError(f"{new!r} already exists", field=field)

    def rename_table(self, simulation: Simulation, previous: str, new: str) -> None:
        """Rename a table; both names are checked against the actual schema, never trusted."""
        with self._locks[simulation.id], sqlite3.connect(self._database(simulation)) as connection:
            schema = self._schema(connection)
            if previous not in schema:
                raise InputError(f"no table {previous!r} in the input database", field="previous")
            if previous in GCBM_TABLES:
                raise InputError(f"table {previous!r} is required by GCBM and cannot be renamed",
                                 field="previous")
            self._check_new_name(new, list(schema), "new")
            connection.execute(f"ALTER TABLE {quote_identifier(previous)} "
                               f"RENAME TO {quote_identifier(new)}")

    def rename_columns(self, simulation: Simulation, renames: dict[str, dict[str, str]]) -> dict:
        """Upstream's /config: {table: {old column: new column}}; all checked before any change."""
        if not isinstance(renames, dict) or not all(isinstance(v, dict) for v in renames.values()):
            raise InputError("expected {table: {old column: new column}}", field="tables")
        with self._locks[simulation.id], sqlite3.connect(self._database(simulation)) as connection:
            schema = self._schema(connection)
            for table, columns in renames.items():
                if table not in schema:
                    raise InputError(f"no table {table!r} in the input database", field=f"tables.{table}")
                remaining = list(schema[table])
                for old, new in columns.items():
                    if old not in remaining:
                        raise InputError(f"table {table!r} has no column {old!r}",
                                         field=f"tables.{table}.{old}")
                    self._check_new_name(new, [c for c in remaining if c != old], f"tables.{table}.{old}")
                    remaining[remaining.index(old)] = new
            response = {}
            for table, columns in renames.items():
                response[table] = {"schema_before": schema[table]}
                for old, new in columns.items():
                    connection.execute(f"ALTER TABLE {quote_identifier(table)} RENAME COLUMN "
                                       f"{quote_identifier(old)} TO {quote_identifier(new)}")
                response[table]["schema_after"] = self._schema(connection)[table]
            return response

    # -- running and results ----------------------------------------------------------------------
    def active_job(self, simulation: Simulation) -> Job | None:
        jobs, _ = self.jobs.list_jobs(owner=None, simulation_id=simulation.id,
                                 statuses=[JobStatus.ACCEPTED, JobStatus.RUNNING], limit=1)
        return jobs[0] if jobs else None

    def latest_job(self, simulation: Simulation, *, successful: bool = False) -> Job | None:
        statuses = [JobStatus.SUCCESSFUL] if successful else None
        jobs, _ = self.jobs.list_jobs(owner=None, simulation_id=simulation.id, statuses=statuses, limit=1)
        return jobs[0] if jobs else None

    def run(self, simulation: Simulation, *, owner: str, idempotency_key: str | None = None) -> tuple[Job, bool]:
        """Check everything, snapshot the project into the job, queue it. Returns (job, created).
        One run at a time (409); a replay of an idempotent request returns its job instead."""

        def prepare(directory: Path) -> None:  # not called for a replay
            active = self.active_job(simulation)
            if active is not None:
                raise ConflictError(f"simulation {simulation.title!r} is already running (job {active.id})",
                                    hint="poll that job, or dismiss it before starting another run")
            with self._locks[simulation.id]:  # hard links: the prepared files never change
                shutil.copytree(self._project(simulation), directory / "project",
                                copy_function=os.link)

        return self.jobs.submit("gcbm", {"simulation": simulation.id}, owner=owner,
                                idempotency_key=idempotency_key, simulation_id=simulation.id,
                                prepare=prepare)

    def output_dir(self, simulation: Simulation) -> tuple[Job, Path]:
        """The output directory of the latest successful run."""
        job = self.latest_job(simulation, successful=True)
        if job is None:
            raise NotFoundError(f"simulation {simulation.title!r} has no finished run",
                                hint="run it, then wait for the job to succeed")
        return job, self.storage.job_results_dir(job.id) / "output"

    def list_outputs(self, simulation: Simulation) -> tuple[Job, list[dict]]:
        job, output = self.output_dir(simulation)
        files = [{"path": path.relative_to(output).as_posix(), "size": path.stat().st_size}
                 for path in sorted(output.rglob("*")) if path.is_file()]
        return job, files

    def output_file(self, simulation: Simulation, relative: str) -> Path:
        _, output = self.output_dir(simulation)
        path = self.storage.resolve_inside(output, relative)
        if not path.is_file():
            raise NotFoundError(f"no output file {relative!r}")
        return path

    def annual_summary(self, simulation: Simulation) -> list[dict]:
        _, output = self.output_dir(simulation)
        return gcbm_outputs.annual_summary(output)

    def indicators(self, simulation: Simulation) -> list[str]:
        _, output = self.output_dir(simulation)
        return gcbm_outputs.indicator_names(output)

    def indicator_series(self, simulation: Simulation, indicator: str) -> list[dict]:
        _, output = self.output_dir(simulation)
        start_year = get_config(output.parent / "inputs" / "project").start_year  # the run's own
        return gcbm_outputs.indicator_series(output, indicator, start_year)

    # -- indicator maps (the COGs of the latest successful run) ----------------------------------
    def maps(self, simulation: Simulation) -> tuple[Job, list[dict]]:
        """The latest run's job and, per indicator with maps: its unit and years."""
        job, output = self.output_dir(simulation)
        return job, [{"indicator": name, "unit": gcbm_outputs.indicator_unit(name), "years": list(years)}
                     for name, years in gcbm_outputs.map_catalogue(output).items()]

    def _map_layer(self, simulation: Simulation, indicator: str, year: str) -> Path:
        _, output = self.output_dir(simulation)
        return maps.find_layer(gcbm_outputs.map_catalogue(output), indicator, year)

    def map_info(self, simulation: Simulation, indicator: str, year: str, **style) -> dict:
        """Bounds, size, value range and colour scale of one indicator map (`style`: ramp, vmin,
        vmax, as for `map_image`)."""
        return maps.describe_map(self._map_layer(simulation, indicator, year), indicator, year,
                                 **style)

    def map_image(self, simulation: Simulation, indicator: str, year: str, **style) -> bytes:
        """One indicator map as a PNG (nodata transparent)."""
        return maps.render_map(self._map_layer(simulation, indicator, year), **style)

    def map_value(self, simulation: Simulation, indicator: str, year: str, lon: float,
                  lat: float) -> dict:
        return maps.map_value(self._map_layer(simulation, indicator, year), indicator, year,
                              lon, lat)

    # -- what attribute tables may say ----------------------------------------------------------
    def attribute_choices(self, simulation: Simulation, *, max_values: int = 1000) -> dict:
        """Per classifier and disturbance layer the pixel values it holds (at most
        `max_values`), and the input database's classifier values, disturbance types,
        transitions and spatial units (empty until the database is uploaded)."""
        folder = self.inputs_dir(simulation)
        layers = {}
        for category in (Category.CLASSIFIERS, Category.DISTURBANCES):
            for path in _rasters(folder / category):
                layers[layer_name_from_file(path)] = {
                    "category": category.value, "pixel_values": _pixel_values(path, max_values)}
        choices = {"layers": layers, "classifiers": {}, "disturbance_types": [], "transitions": [],
                   "spatial_units": []}
        database = folder / Category.DB / INPUT_DB_NAME
        if database.is_file():
            try:
                db = InputDatabase(database)
            except InputError:
                return choices  # not a GCBM database: the inputs' problems say so
            try:
                choices["classifiers"] = {name: sorted(values.values())
                                          for name, values in db.classifier_values().items()}
                choices["disturbance_types"] = sorted(db.disturbance_types())
                choices["transitions"] = sorted(db.transition_ids())
                choices["spatial_units"] = [{"admin_boundary": admin, "eco_boundary": eco}
                                            for _, admin, eco in db.spatial_units()]
            finally:
                db.close()
        return choices


# -- settings documents ----------------------------------------------------------------------------

def _read_document(path: Path) -> Description:
    """An uploaded attributes file (JSON, YAML or CSV), or InputProblems naming its fields."""
    problems = Problems()
    description = read_description(path, problems)
    problems.raise_if_any(path.name)
    return description


def _with_document(settings: dict, document: Description) -> dict:
    """An uploaded attributes file over the settings: what it sets wins; a layer's attribute
    table is replaced as a whole."""
    given = _by_layer_name(document.model_dump(mode="json", exclude_unset=True))
    layers = dict(settings.get("layers", {}))
    for name, entry in given.pop("layers", {}).items():
        layers[name] = {**layers.get(name, {}), **entry}
    return {**settings, **given, "layers": layers}


def _by_layer_name(document: dict) -> dict:
    """`document` with its layers keyed by layer name: a raster's file name or stem given as a
    key (`Classifier1_moja.tiff`) becomes its layer's name (`Classifier1`)."""
    layers = document.get("layers")
    if not isinstance(layers, dict):
        return document
    return {**document, "layers": {layer_name_from_file(Path(str(key))): entry
                                   for key, entry in layers.items()}}


def _validated(settings: dict) -> tuple[dict, Description]:
    """The settings, and as a Description; InputProblems naming each field that is wrong."""
    problems = Problems()
    if "database" in settings:
        problems.add("not a setting of a simulation: upload the database instead", field="database",
                     source="settings")
    try:
        description = Description.model_validate(settings)
    except ValidationError as err:
        for error in err.errors():
            problems.add(error["msg"], source="settings",
                         field=".".join(str(part) for part in error["loc"]) or None)
    problems.raise_if_any()
    return settings, description


def _from_former_names(patch: dict) -> dict:
    """The configuration's former fields as settings: `start_date`/`end_date` (1 January; the
    end is exclusive) as `start_year`/`end_year`, `attributes` as the layers' attributes,
    `variables.admin_boundary`/`eco_boundary` as themselves."""
    patch, problems = dict(patch), Problems()
    for key, setting, offset in (("start_date", "start_year", 0), ("end_date", "end_year", -1)):
        if key in patch:
            value = patch.pop(key)
            year = _first_of_january(value)
            if value is not None and year is None:
                problems.add(f"{value!r} is not a 1 January date (YYYY-01-01): GCBM simulates "
                             f"whole years", field=key, hint=f"or give {setting}")
            patch[setting] = None if year is None else year + offset
    tables = patch.pop("attributes", None)
    if isinstance(tables, dict):
        layers = patch["layers"] = dict(patch.get("layers") or {})
        for name, table in tables.items():
            layers.setdefault(name, {})["attributes"] = table
    if "variables" in patch:
        variables = patch.pop("variables") or dict.fromkeys(("admin_boundary", "eco_boundary"))
        for name, value in variables.items():
            if name in ("admin_boundary", "eco_boundary"):
                patch[name] = value
            else:
                problems.add(f"{name!r} is not a setting", field="variables",
                             hint="the settings are admin_boundary and eco_boundary")
    if "modules" in patch:
        problems.add("module settings are the settings spinup, growth and outputs", field="modules",
                     hint="see docs/service.md")
    problems.raise_if_any()
    return patch


def _first_of_january(value: Any) -> int | None:
    try:
        day = date.fromisoformat(str(value).replace("/", "-"))
    except ValueError:
        return None
    return day.year if (day.month, day.day) == (1, 1) else None


def _write_settings(folder: Path, settings: dict) -> None:
    """Write the settings file atomically (a new file: the old one may be a hard link)."""
    path = folder / SETTINGS_FILE
    temporary = folder / f".{SETTINGS_FILE}.partial"
    temporary.write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


# -- files -----------------------------------------------------------------------------------------

def _rasters(folder: Path) -> list[Path]:
    return sorted(path for path in folder.glob("*") if path.suffix.lower() in RASTER_SUFFIXES) \
        if folder.is_dir() else []


def _raster_summary(path: Path) -> dict | None:
    """A raster's CRS, size, bounds (west, south, east, north), resolution, type and nodata."""
    try:
        info = inspect_raster(path)
    except RasterError:
        return None
    t = info.transform
    return {"crs": info.crs.to_string() if info.crs else None, "width": info.width,
            "height": info.height,
            "bounds": [t.c, t.f + t.e * info.height, t.c + t.a * info.width, t.f],
            "resolution": [t.a, -t.e], "data_type": GDAL_TYPES.get(info.dtype, info.dtype),
            "nodata": info.nodata}


def _pixel_values(path: Path, limit: int) -> list[int]:
    """The distinct valid values of a categorical raster (its first `limit`)."""
    try:
        with rasterio.open(path) as dataset:
            values = dataset.read(1, masked=True)
    except rasterio.RasterioError:
        return []
    return [int(value) for value in np.unique(values.compressed())[:limit]]


def _fingerprint(folder: Path) -> str:
    """Changes whenever a file under `folder` is added, removed, replaced or modified."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\n"
                          .encode())
    return digest.hexdigest()
