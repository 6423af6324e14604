"""Simulations: a GCBM project built up by uploads and configuration edits, then run as a job.

Upstream keyed everything by a user-chosen title; here a simulation has an id (uuid4) and a
title unique per owner, so upstream's title-based endpoints map onto the same resource.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from flintcloud.errors import InputError, NotFoundError
from flintcloud.service import gcbm_outputs, maps
from flintcloud.service.db import Database, SimulationRow, utc_now
from flintcloud.service.errors import (
    ConflictError,
    FieldErrors,
    ForbiddenError,
    UnsupportedFileError,
)
from flintcloud.service.gcbm_project import (
    DB_SUFFIXES,
    INPUT_DB_NAME,
    RASTER_SUFFIXES,
    REQUIRED_TABLES,
    AttributeTable,
    Category,
    ProjectInputs,
    SimulationConfig,
    config_document_names,
    config_errors,
    database_vocabulary,
    layer_name,
    project_problems,
    render_project,
    write_project,
)
from flintcloud.service.jobs import Job, JobService, JobStatus
from flintcloud.service.storage import Storage
from flintcloud.service.uploads import ZipLimits, copy_limited, extract_zip, safe_filename
from flintcloud.service.validation import (
    grid_problems,
    inspect_geotiff,
    raster_values,
    sqlite_problem,
)

CONFIG_FILE = "simulation.json"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_ATTRIBUTES = TypeAdapter(dict[str, AttributeTable])


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
        directory = self.storage.simulation_dir(row.id)
        for category in Category:
            (directory / "inputs" / category).mkdir(parents=True, exist_ok=True)
        self._save_config(row.id, SimulationConfig())
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

    def project_inputs(self, simulation: Simulation) -> ProjectInputs:
        return ProjectInputs.scan(self.inputs_dir(simulation))

    def add_files(self, simulation: Simulation, files: list[IncomingFile], *,
                  category: Category | None = None, attributes: str | None = None) -> list[dict]:
        """Receive files of one category (or of the categories their zip folders name)."""
        return self.add_files_by_category(simulation, [(category, incoming) for incoming in files],
                                          attributes=attributes)

    def add_files_by_category(self, simulation: Simulation,
                              files: list[tuple[Category | None, IncomingFile]], *,
                              attributes: str | None = None) -> list[dict]:
        """Receive files (a zip is unpacked; its folders name the categories), validate them all
        together with what is already there, then keep all or nothing."""
        staging = self.storage.new_staging_dir()
        try:
            received, zipped_attributes = self._receive(files, staging)
            tables = self._parse_attributes(attributes, zipped_attributes)
            with self._locks[simulation.id]:
                self._validate(simulation, received, tables)
                self._accept(simulation, received, tables)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._touch(simulation)
        return [{"category": str(c), "name": path.name} for c, path in received]

    def _receive(self, files: list[tuple[Category | None, IncomingFile]],
                 staging: Path) -> tuple[list[tuple[Category, Path]], list[Path]]:
        received: list[tuple[Category, Path]] = []
        attribute_files: list[Path] = []
        for number, (category, incoming) in enumerate(files):
            name = safe_filename(incoming.filename)
            landing = staging / "received" / str(number)
            landing.mkdir(parents=True)
            path = landing / name
            copy_limited(incoming.stream, path, limit=self.max_upload_bytes, label=name)
            if name.lower().endswith(".zip"):
                unpacked = staging / "unpacked" / str(number)
                unpacked.mkdir(parents=True)
                for relative in extract_zip(path, unpacked, self.zip_limits, label=name):
                    member = unpacked / relative
                    if relative.name == "attributes.json":
                        attribute_files.append(member)
                        continue
                    received.append((self._category_of(relative, category, name), member))
            else:
                received.append((self._category_of(PurePosixPath(name), category, name), path))
        return received, attribute_files

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

    @staticmethod
    def _parse_attributes(text: str | None, files: list[Path]) -> dict[str, AttributeTable]:
        documents = [("attributes", text)] if text else []
        documents += [(f"{path.name}", path.read_text(encoding="utf-8", errors="replace")) for path in files]
        tables: dict[str, AttributeTable] = {}
        for label, document in documents:
            try:
                parsed = _ATTRIBUTES.validate_json(document)
            except ValidationError as err:
                errors = [{"field": ".".join([label, *map(str, e["loc"])]), "message": e["msg"]}
                          for e in err.errors()]
                raise FieldErrors(f"{label}: invalid attribute tables: " +
                                  "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                                  errors) from None
            for key, table in parsed.items():  # keys may be file names or layer names
                tables[layer_name(safe_filename(key))] = table
        return tables

    def _validate(self, simulation: Simulation, received: list[tuple[Category, Path]],
                  tables: dict[str, AttributeTable]) -> None:
        errors = []
        existing = self.project_inputs(simulation)
        rasters = {}
        seen: dict[str, Category] = {}
        for category, path in received:
            field = f"{category}.{path.name}"
            suffix = path.suffix.lower()
            if category == Category.DB:
                if suffix not in DB_SUFFIXES:
                    errors.append({"field": field, "message": f"expected a {'/'.join(DB_SUFFIXES)} file"})
                elif problem := sqlite_problem(path, REQUIRED_TABLES):
                    errors.append({"field": field, "message": problem})
                continue
            if suffix not in RASTER_SUFFIXES:
                errors.append({"field": field, "message": "expected a GeoTIFF (.tif or .tiff)"})
                continue
            name = layer_name(path.name)
            other = seen.get(name) or (existing.layers[name].category if name in existing.layers else None)
            if other is not None and other != category:
                errors.append({"field": field, "message": f"layer {name} is already a {other} layer"})
            seen[name] = category
            info = inspect_geotiff(path)
            if isinstance(info, str):
                errors.append({"field": field, "message": info})
            else:
                rasters[name] = info
        if rasters:  # the new rasters must fit the grid of those already uploaded
            kept = {name: layer for name, layer in existing.layers.items() if name not in rasters}
            existing.layers = kept
            existing.inspect()
            grid = {name: layer.info for name, layer in kept.items() if layer.info} | rasters
            for name, message in grid_problems(grid).items():
                if name in rasters:
                    errors.append({"field": f"{seen[name]}.{name}", "message": message})
        known = set(seen) | set(existing.layers)
        for name in tables:
            if name not in known:
                errors.append({"field": f"attributes.{name}",
                               "message": f"no layer {name} in this upload or the simulation"})
        if errors:
            raise UnsupportedFileError(
                "upload rejected: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                errors)

    def _accept(self, simulation: Simulation, received: list[tuple[Category, Path]],
                tables: dict[str, AttributeTable]) -> None:
        inputs = self.inputs_dir(simulation)
        current = self.project_inputs(simulation)
        for category, path in received:
            if category == Category.DB:
                target = inputs / Category.DB / INPUT_DB_NAME
            else:
                name = layer_name(path.name)
                previous = current.layers.get(name)
                if previous is not None and previous.path.name != path.name:
                    previous.path.unlink(missing_ok=True)  # same layer, other file name: replace it
                target = inputs / category / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        if tables:
            config = self.config(simulation)
            self._save_config(simulation.id, config.model_copy(
                update={"attributes": {**config.attributes, **tables}}))

    def remove_file(self, simulation: Simulation, category: Category, name: str) -> None:
        folder = self.inputs_dir(simulation) / category
        path = self.storage.resolve_inside(folder, safe_filename(name))
        with self._locks[simulation.id]:
            path.unlink()
        self._touch(simulation)

    def describe_inputs(self, simulation: Simulation) -> dict:
        inputs = self.project_inputs(simulation)
        inputs.inspect()
        config = self.config(simulation)
        described: dict[str, list] = {category.value: [] for category in Category}
        for layer in inputs.layers.values():
            described[layer.category].append({
                "name": layer.path.name, "layer": layer.name, "size": layer.path.stat().st_size,
                "raster": layer.info.to_dict() if layer.info else None,
                "has_attributes": bool(config.attributes.get(layer.name))})
        if inputs.database is not None:
            described[Category.DB].append({"name": INPUT_DB_NAME,
                                           "size": inputs.database.stat().st_size})
        return described

    def attribute_choices(self, simulation: Simulation, *, max_values: int = 1000) -> dict:
        """What the attribute tables may say: per classifier and disturbance layer the pixel values
        it holds (at most `max_values`), and the input database's classifier values, disturbance
        types and transitions (empty until the database is uploaded)."""
        inputs = self.project_inputs(simulation)
        inputs.inspect()
        layers = {}
        for layer in inputs.layers.values():
            if layer.category not in (Category.CLASSIFIERS, Category.DISTURBANCES):
                continue
            values = raster_values(layer.path)[:max_values] if layer.info else []
            layers[layer.name] = {"category": str(layer.category),
                                  "pixel_values": [int(value) for value in values]}
        vocabulary = database_vocabulary(inputs.database) if inputs.database else {
            "classifiers": {}, "disturbance_types": set(), "transitions": set()}
        return {"layers": layers,
                "classifiers": {name: sorted(values) for name, values in vocabulary["classifiers"].items()},
                "disturbance_types": sorted(vocabulary["disturbance_types"]),
                "transitions": sorted(vocabulary["transitions"])}

    def readiness(self, simulation: Simulation) -> list[dict]:
        """What still stops the simulation from running (pixel values are checked at run time)."""
        return project_problems(self.project_inputs(simulation), self.config(simulation),
                                check_pixel_values=False)

    # -- configuration ----------------------------------------------------------------------------
    def _config_path(self, simulation_id: str) -> Path:
        return self.storage.simulation_dir(simulation_id) / CONFIG_FILE

    def _save_config(self, simulation_id: str, config: SimulationConfig) -> None:
        path = self._config_path(simulation_id)
        temporary = path.with_name(f".{path.name}.partial")
        temporary.write_text(config.model_dump_json(indent=2, exclude_none=True), encoding="utf-8")
        os.replace(temporary, path)

    def config(self, simulation: Simulation) -> SimulationConfig:
        path = self._config_path(simulation.id)
        if not path.exists():
            return SimulationConfig()
        return SimulationConfig.model_validate_json(path.read_text(encoding="utf-8"))

    def update_config(self, simulation: Simulation, patch: dict[str, Any]) -> SimulationConfig:
        """JSON merge patch (RFC 7396) of the configuration; the result is validated as a whole."""
        if not isinstance(patch, dict):
            raise InputError("the configuration patch must be a JSON object", field="config")
        with self._locks[simulation.id]:
            current = self.config(simulation).model_dump(mode="json", exclude_none=True)
            try:
                updated = SimulationConfig.model_validate(_merge_patch(current, patch))
            except ValidationError as err:
                errors = config_errors(err)
                raise FieldErrors("invalid configuration: " +
                                  "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                                  errors) from None
            self._save_config(simulation.id, updated)
        self._touch(simulation)
        return updated

    def config_document(self, simulation: Simulation, name: str) -> dict:
        """One generated GCBM file by upstream's getConfig name (`localdomain`, a layer…)."""
        inputs = self.project_inputs(simulation)
        names = config_document_names(inputs)
        if name not in names:
            raise NotFoundError(f"no configuration file {name!r}", field="file_name",
                                hint=f"files: {', '.join(sorted(names))}")
        return render_project(inputs, self.config(simulation))[names[name]]

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
            if previous in REQUIRED_TABLES:
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
        jobs, _ = self.jobs.list(owner=None, simulation_id=simulation.id,
                                 statuses=[JobStatus.ACCEPTED, JobStatus.RUNNING], limit=1)
        return jobs[0] if jobs else None

    def latest_job(self, simulation: Simulation, *, successful: bool = False) -> Job | None:
        statuses = [JobStatus.SUCCESSFUL] if successful else None
        jobs, _ = self.jobs.list(owner=None, simulation_id=simulation.id, statuses=statuses, limit=1)
        return jobs[0] if jobs else None

    def run(self, simulation: Simulation, *, owner: str, idempotency_key: str | None = None) -> tuple[Job, bool]:
        """Check everything, snapshot the project into the job, queue it. Returns (job, created).
        One run at a time (409); a replay of an idempotent request returns its job instead."""

        def prepare(directory: Path) -> None:  # not called for a replay
            active = self.active_job(simulation)
            if active is not None:
                raise ConflictError(f"simulation {simulation.title!r} is already running (job {active.id})",
                                    hint="poll that job, or dismiss it before starting another run")
            with self._locks[simulation.id]:
                write_project(self.project_inputs(simulation), self.config(simulation),
                              directory / "project")

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
        return gcbm_outputs.indicator_series(output, indicator, self.config(simulation).start_date.year)

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
