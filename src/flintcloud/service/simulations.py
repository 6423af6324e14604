"""Simulations: GCBM inputs built up by uploads and settings edits, then run as jobs.

Upstream keyed everything by a user-chosen title; here a simulation has an id (uuid4) and a
title unique per owner, so upstream's title-based endpoints map onto the same resource.

A simulation's `inputs/` folder is an upload folder of `flintcloud.gcbm.inputs.upload`
(docs/gcbm-inputs.md), whose functions add and remove files, edit the settings and rename the
input database's tables. The service has no GCBM rules of its own: it keeps the rows, the
storage, the locks and the jobs; a simulation is ready when `prepare_project` makes its project,
and `flintcloud gcbm validate <storage>/simulations/<id>/inputs` gives the same answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import uuid
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from flintcloud.errors import InputError, InputProblems, NotFoundError
from flintcloud.gcbm.inputs import GcbmSettings, patches, prepare_project, upload
from flintcloud.gcbm.inputs.config import standard_geotiff_module
from flintcloud.gcbm.inputs.convert import project_to_upload_form
from flintcloud.gcbm.inputs.edit import config_document, find_config_dir
from flintcloud.gcbm.inputs.forms import ATTRIBUTES_NAMES
from flintcloud.gcbm.inputs.input_db import schema
from flintcloud.gcbm.inputs.upload import INPUT_DB_NAME, Category
from flintcloud.gcbm.inputs.upstream_demo import complete_demo_settings
from flintcloud.gcbm.outputs import catalogue as gcbm_outputs
from flintcloud.gcbm.project.modules import describe_modules
from flintcloud.io.archive import extract_zip
from flintcloud.service import maps
from flintcloud.service.db import Database, SimulationRow, utc_now
from flintcloud.service.errors import ConflictError, ForbiddenError, error_item
from flintcloud.service.jobs import Job, JobService, JobStatus
from flintcloud.service.maps import MapLayer  # the class's `maps` method hides the module
from flintcloud.service.storage import Storage
from flintcloud.service.uploads import ZipLimits, copy_limited, safe_filename

# An uploaded file with one of these suffixes is an attributes file (docs/gcbm-inputs.md §3).
ATTRIBUTES_SUFFIXES = (".json", ".yaml", ".yml", ".csv")
GENERATED = "generated"  # prepared/: the project as the inputs make it, before hand edits
EDITS_FILE = "config_edits.json"  # the simulation's hand edits of its configuration files
MAP_TILES_CACHED = 2048  # PNG tiles kept in memory (a few KB each; mostly nodata ones are less)
# The service's way to give a layer's table: named in a run's 422 when tables are missing.
ATTRIBUTES_HINT = ("give each layer's attribute table in the `attributes` field of an upload "
                   "(POST /gcbm/upload, /gcbm/upload/<category> or /simulations/{id}/files: an "
                   "attributes file, {layer: table}, or for a single file its bare table such "
                   "as {\"1\": \"TA\", \"2\": \"BP\"}), or PATCH /simulations/{id}/config")

__all__ = ["ATTRIBUTES_HINT", "Category", "IncomingFile", "Simulation", "SimulationService", "upstream_title"]


@dataclass(frozen=True)
class Simulation:
    id: str
    owner: str
    title: str
    created: datetime
    updated: datetime
    scenario_of: str | None = None  # the simulation it was copied from (service/scenarios.py)

    @classmethod
    def from_row(cls, row: SimulationRow) -> Simulation:
        return cls(row.id, row.owner, row.title, row.created, row.updated, row.scenario_of)


@dataclass(frozen=True)
class IncomingFile:
    """One uploaded file as the HTTP layer hands it over: its client-side name and a stream."""

    filename: str | None
    stream: BinaryIO


def upstream_title(title: str | None) -> str:
    """Upstream's rule: alphanumerics only, `simulation` when empty."""
    cleaned = "".join(character for character in (title or "") if character.isalnum())
    return cleaned or "simulation"


class SimulationService:
    def __init__(self, database: Database, storage: Storage, jobs: JobService, *,
                 max_upload_bytes: int, zip_limits: ZipLimits) -> None:
        self.db = database
        self.storage = storage
        self.jobs = jobs
        self.max_upload_bytes = max_upload_bytes
        self.zip_limits = zip_limits
        self.map_tiles = maps.LruCache(MAP_TILES_CACHED)
        self.map_styles = maps.LruCache(256)
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
            return self.by_title(title, owner=owner), False
        upload.create_upload_folder(self.inputs_dir(Simulation.from_row(row)))
        return Simulation.from_row(row), True

    def create_demo(self, title: str, *, owner: str) -> tuple[Simulation, bool]:
        """A new simulation holding `gcbm demo`'s synthetic project (no files needed; its
        database is built from libcbm's CBM-CFS3 defaults), uploaded as a project zip is.
        Returns (simulation, created); an existing title is returned unchanged."""
        from flintcloud.gcbm.inputs.demo import write_demo_project

        simulation, created = self.create(title, owner=owner)
        if not created:
            return simulation, False
        staging = self.storage.new_staging_dir()
        try:
            project = write_demo_project(staging / "demo" / "project").parent
            archive = staging / "gcbm-demo.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
                for path in sorted(project.rglob("*")):
                    if path.is_file():
                        zipped.write(path, path.relative_to(project).as_posix())
            with archive.open("rb") as stream:
                self.add_files(simulation, [IncomingFile(archive.name, stream)])
        except BaseException:
            self.delete(simulation)
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return simulation, True

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

    def list_simulations(self, *, owner: str | None) -> list[Simulation]:
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
            session.execute(delete(SimulationRow).where(SimulationRow.id == simulation.id))
            # its scenarios no longer name a deleted baseline
            session.execute(update(SimulationRow).where(SimulationRow.scenario_of == simulation.id)
                            .values(scenario_of=None))
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
                  category: Category | None = None,
                  attributes: str | None = None) -> list[dict[str, str]]:
        """Receive files of one category (or of the categories their zip folders name)."""
        return self.add_files_by_category(simulation, [(category, incoming) for incoming in files],
                                          attributes=attributes)

    def add_files_by_category(self, simulation: Simulation,
                              files: list[tuple[Category | None, IncomingFile]], *,
                              attributes: str | None = None) -> list[dict[str, str]]:
        """Receive files (a zip is unpacked; its folders name the categories) and attributes
        files, check the inputs they make with what is already there, keep all or nothing."""
        staging = self.storage.new_staging_dir()
        try:
            received, documents = self._receive(files, staging)
            with self._locks[simulation.id]:
                upload.add_files(self.inputs_dir(simulation), received, documents, staging,
                                 attributes=attributes)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._touch(simulation)
        return [{"category": str(c), "name": path.name} for c, path in received]

    def _receive(self, files: list[tuple[Category | None, IncomingFile]],
                 staging: Path) -> tuple[list[tuple[Category, Path]], list[Path]]:
        """Store the uploads in `staging` (size-capped, zips unpacked within limits, a complete
        project rewritten in the upload form): the files by category, and attributes files."""
        received: list[tuple[Category, Path]] = []
        documents: list[Path] = []
        for number, (category, incoming) in enumerate(files):
            name = safe_filename(incoming.filename)
            landing = staging / "received" / str(number)
            landing.mkdir(parents=True)
            path = landing / name
            copy_limited(incoming.stream, path, limit=self.max_upload_bytes, label=name)
            if PurePosixPath(name).suffix.lower() in ATTRIBUTES_SUFFIXES:
                documents.append(path)  # an attributes file on its own (JSON, YAML or CSV)
                continue
            if not name.lower().endswith(".zip"):
                received.append((upload.category_of(PurePosixPath(name), category, name), path))
                continue
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
                received.append((upload.category_of(relative, category, name), kept))
        return received, documents

    def remove_file(self, simulation: Simulation, category: Category, name: str) -> None:
        """Remove one input; a layer's settings (its attribute table) go with its raster."""
        with self._locks[simulation.id]:
            folder = self.inputs_dir(simulation)
            upload.remove_file(folder, self.storage.resolve_inside(folder / category,
                                                                   safe_filename(name)))
        self._touch(simulation)

    def describe_inputs(self, simulation: Simulation) -> dict[str, list[dict[str, Any]]]:
        with self._locks[simulation.id]:
            return upload.describe_inputs(self.inputs_dir(simulation))

    def attribute_choices(self, simulation: Simulation, *,
                          max_values: int = 1000) -> dict[str, Any]:
        """What attribute tables may say: per classifier and disturbance layer its pixel
        values, and the input database's classifier values, disturbance types, transitions and
        spatial units."""
        return upload.attribute_choices(self.inputs_dir(simulation), max_values=max_values)

    # -- the project ------------------------------------------------------------------------------
    def _prepared(self, simulation: Simulation) -> dict[str, Any]:
        """The simulation's GCBM project, made by `prepare_project` from its inputs (kept in
        `prepared/generated` until they change), with the hand edits of its configuration
        files applied (`prepared/project`, remade when the edits change). Returns {"inputs":
        their fingerprint, "edits": the edits' fingerprint, "detail", "errors"}: no errors,
        the project is ready. Call with the simulation's lock held."""
        directory = self.storage.simulation_dir(simulation.id) / "prepared"
        fingerprint = _fingerprint(self.inputs_dir(simulation))
        edits_key = self._edits_key(simulation)
        state_path = directory / "state.json"
        if state_path.is_file():
            state: dict[str, Any] = json.loads(state_path.read_text(encoding="utf-8"))
            if state["inputs"] == fingerprint and "edits" in state:
                if state["edits"] != edits_key:
                    state = self._apply_edits(simulation, directory, state, edits_key)
                    state_path.write_text(json.dumps(state), encoding="utf-8")
                return state
        shutil.rmtree(directory, ignore_errors=True)  # job snapshots hold their own links
        directory.mkdir(parents=True)
        state = {"inputs": fingerprint, "detail": None, "errors": [], "notes": []}
        source = self.inputs_dir(simulation)
        try:
            # Upstream's demo rasters come without tables (upstream hard-coded them): its
            # tables, period and spatial unit fill what was left out, and the notes say so.
            settings, notes = complete_demo_settings(source, upload.read_settings(source))
            if notes:
                completed = directory / "inputs"
                shutil.copytree(source, completed, copy_function=os.link)
                upload.write_settings(completed, settings)  # a new file: the link is kept
                source = completed
            state["notes"] = notes
            prepare_project(source, directory / GENERATED)
        except InputError as err:
            problems = err.problems if isinstance(err, InputProblems) else [err]
            state.update(detail=err.message, errors=[error_item(p) for p in problems])
        finally:
            shutil.rmtree(directory / "inputs", ignore_errors=True)
        state["prepared"] = {"detail": state["detail"], "errors": state["errors"]}
        state = self._apply_edits(simulation, directory, state, edits_key)
        state_path.write_text(json.dumps(state), encoding="utf-8")
        return state

    def _apply_edits(self, simulation: Simulation, directory: Path, state: dict[str, Any],
                     edits_key: str) -> dict[str, Any]:
        """`state` with the project remade from the generated one and the edits: an edit
        that no longer applies (the inputs changed) is a problem that stops a run, with a
        hint to edit or reset it."""
        shutil.rmtree(directory / "project", ignore_errors=True)
        state = {**state, **state["prepared"], "edits": edits_key}
        if state["errors"]:
            return state  # no generated project to edit
        try:
            patches.write_edited_project(directory / GENERATED, directory / "project",
                                         self._edits(simulation))
        except InputError as err:
            problems = err.problems if isinstance(err, InputProblems) else [err]
            files = f"/simulations/{simulation.id}/config/files"
            fix = f"edit it again (PATCH {files}/<name>) or reset it (DELETE {files}/<name>)"
            items = [error_item(problem) for problem in problems]
            for item in items:
                item["hint"] = "; ".join(filter(None, (item.get("hint"), fix)))
            state.update(detail=f"the configuration files' edits no longer apply: {err.message}",
                         errors=items)
        return state

    def _project(self, simulation: Simulation) -> Path:
        """The prepared project, or a 422 listing every problem. Call with the lock held."""
        detail, errors = self._refusal(self._prepared(simulation))
        if errors:
            raise InputProblems([_problem(item) for item in errors], detail=detail)
        return self.storage.simulation_dir(simulation.id) / "prepared" / "project"

    @staticmethod
    def _refusal(state: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
        errors: list[dict[str, Any]] = state["errors"]
        if not errors:
            return None, []
        detail = f"the simulation cannot run yet: {state['detail']}"
        if any(item["field"] == "attributes" for item in errors):
            detail += f"\n{ATTRIBUTES_HINT}"
        return detail, errors

    def refusal(self, simulation: Simulation) -> tuple[str | None, list[dict[str, Any]]]:
        """Why a run would be refused now: the 422's detail and errors (None, []: it would
        start)."""
        with self._locks[simulation.id]:
            return self._refusal(self._prepared(simulation))

    def notes(self, simulation: Simulation) -> list[str]:
        """What a run takes that was not given (upstream's demo's tables, period, spatial unit)."""
        with self._locks[simulation.id]:
            notes: list[str] = self._prepared(simulation).get("notes", [])
            return notes

    def readiness(self, simulation: Simulation) -> list[dict[str, Any]]:
        """What stops the simulation from running: every problem `validate_inputs` finds."""
        with self._locks[simulation.id]:
            errors: list[dict[str, Any]] = self._prepared(simulation)["errors"]
            return errors

    def config_document(self, simulation: Simulation, name: str) -> dict[str, Any]:
        """One file of the project by upstream's getConfig name (`localdomain`, `Classifier1`,
        `Classifier1_moja`); a configuration file as edited (even when an edit stops a run:
        it is shown to be fixed)."""
        with self._locks[simulation.id]:
            config = self._generated_config(simulation)
            found = patches.find_file_name(name, patches.config_file_names(config))
            if found is None:
                return config_document(config.parent, name)
            return self._edited_document(simulation, config, found)

    # -- hand edits of the configuration files ----------------------------------------------------
    def _edits_path(self, simulation: Simulation) -> Path:
        return self.storage.simulation_dir(simulation.id) / EDITS_FILE

    def _edits_key(self, simulation: Simulation) -> str:
        path = self._edits_path(simulation)
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""

    def _edits(self, simulation: Simulation) -> patches.Edits:
        path = self._edits_path(simulation)
        if not path.is_file():
            return {}
        stored = json.loads(path.read_text(encoding="utf-8"))
        return {name: patches.FileEdit.from_json(edit) for name, edit in stored.items()}

    def _save_edits(self, simulation: Simulation, edits: patches.Edits) -> None:
        path = self._edits_path(simulation)
        if not edits:
            path.unlink(missing_ok=True)
            return
        temporary = path.with_name(f".{path.name}.partial")
        temporary.write_text(json.dumps({name: edit.to_json() for name, edit in edits.items()},
                                        indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)

    def _generated_config(self, simulation: Simulation) -> Path:
        """The generated project's config folder, or a 422 listing what stops it from being
        made (its files exist only then). Call with the lock held."""
        state = self._prepared(simulation)
        if state["prepared"]["errors"]:
            detail, errors = self._refusal(state["prepared"])
            raise InputProblems([_problem(item) for item in errors], detail=detail,
                                hint="the project's files are made once nothing else stops a run")
        return find_config_dir(self.storage.simulation_dir(simulation.id) / "prepared" / GENERATED)

    def _edited_document(self, simulation: Simulation, config: Path, name: str) -> Any:
        edit = self._edits(simulation).get(name)
        generated = patches.read_document(config, name)
        return edit.apply(generated) if edit else generated

    def config_files(self, simulation: Simulation) -> dict[str, Any]:
        """The project's JSON files: the configuration files (editable; `edit` says how each
        was edited: patch, replace or null) and the layers' (read only), and the problems of
        the edits that stop a run."""
        with self._locks[simulation.id]:
            config = self._generated_config(simulation)
            edits = self._edits(simulation)
            names = patches.config_file_names(config)
            layers = sorted(path.name for path in (config.parent / "layers" / "tiled").glob("*.json"))
            problems = [item for item in self._prepared(simulation)["errors"]
                        if item.get("source") in names]
        return {"files": [{"name": name, "editable": True,
                           "edit": edits[name].kind if name in edits else None} for name in names]
                + [{"name": name, "editable": False, "edit": None} for name in layers],
                "problems": problems}

    def edit_config_file(self, simulation: Simulation, name: str, *, patch: Any = None,
                         replacement: Any = None) -> Any:
        """Patch (JSON merge patch) or replace one configuration file; the edited project is
        checked as an uploaded one first: a problem (422, each with file and JSON path)
        changes nothing. The edit is kept, and applied again whenever the inputs change,
        until it is reset. Returns the file as edited."""
        with self._locks[simulation.id]:
            config = self._generated_config(simulation)
            name = patches.file_name(name, patches.config_file_names(config))
            edits = patches.edit_file(self._edits(simulation), patches.read_document(config, name),
                                      name, patch=patch, replacement=replacement)
            directory = self.storage.simulation_dir(simulation.id) / "prepared"
            candidate = directory / f".project-{uuid.uuid4().hex[:8]}"
            patches.write_edited_project(directory / GENERATED, candidate, edits)
            try:
                self._save_edits(simulation, edits)
                shutil.rmtree(directory / "project", ignore_errors=True)
                os.replace(candidate, directory / "project")
            finally:
                shutil.rmtree(candidate, ignore_errors=True)
            # The project is made and checked: the state says so without doing it again.
            state = json.loads((directory / "state.json").read_text(encoding="utf-8"))
            state.update(**state["prepared"], edits=self._edits_key(simulation))
            (directory / "state.json").write_text(json.dumps(state), encoding="utf-8")
            document = self._edited_document(simulation, config, name)
        self._touch(simulation)
        return document

    def reset_config_file(self, simulation: Simulation, name: str) -> None:
        """Drop the edit of one configuration file: the generated file applies again."""
        with self._locks[simulation.id]:
            config = self._generated_config(simulation)
            name = patches.file_name(name, patches.config_file_names(config))
            edits = self._edits(simulation)
            if edits.pop(name, None) is not None:
                self._save_edits(simulation, edits)
                self._prepared(simulation)
        self._touch(simulation)

    # -- settings ---------------------------------------------------------------------------------
    def config(self, simulation: Simulation) -> GcbmSettings:
        """The settings as given (what is left out comes from the inputs or the templates)."""
        return upload.read_settings(self.inputs_dir(simulation))

    def modules(self, simulation: Simulation) -> list[dict[str, Any]]:
        """The modules a run can use, each with whether this simulation's run uses it."""
        return describe_modules(self.config(simulation).model_dump(mode="json",
                                                                   exclude_none=True))

    def update_config(self, simulation: Simulation, patch: Any) -> GcbmSettings:
        """A JSON merge patch (RFC 7396) of the settings, checked like an uploaded attributes
        file; the former names (start_date, end_date, attributes, variables) still work."""
        with self._locks[simulation.id]:
            staging = self.storage.new_staging_dir()
            try:
                settings = upload.update_settings(self.inputs_dir(simulation), patch, staging)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        self._touch(simulation)
        return settings

    # -- the input database -----------------------------------------------------------------------
    def _database(self, simulation: Simulation) -> Path:
        path = self.inputs_dir(simulation) / Category.DB / INPUT_DB_NAME
        if not path.is_file():
            raise NotFoundError(f"simulation {simulation.title!r} has no input database",
                                hint="upload gcbm_input.db first")
        return path

    def tables(self, simulation: Simulation) -> dict[str, list[str]]:
        return schema.read_schema(self._database(simulation))

    def rename_table(self, simulation: Simulation, previous: str, new: str) -> None:
        with self._locks[simulation.id]:
            schema.rename_table(self._database(simulation), previous, new)

    def rename_columns(self, simulation: Simulation,
                       renames: Any) -> dict[str, dict[str, list[str]]]:
        """Upstream's /config: {table: {old column: new column}}; all checked before any change."""
        with self._locks[simulation.id]:
            return schema.rename_columns(self._database(simulation), renames)

    # -- running and results ----------------------------------------------------------------------
    def active_job(self, simulation: Simulation) -> Job | None:
        active: list[str] = [JobStatus.ACCEPTED, JobStatus.RUNNING]
        jobs, _ = self.jobs.list_jobs(owner=None, simulation_id=simulation.id, statuses=active,
                                      limit=1)
        return jobs[0] if jobs else None

    def latest_job(self, simulation: Simulation, *, successful: bool = False) -> Job | None:
        statuses: list[str] | None = [JobStatus.SUCCESSFUL] if successful else None
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

        job, created = self.jobs.submit("gcbm", {"simulation": simulation.id}, owner=owner,
                                        idempotency_key=idempotency_key,
                                        simulation_id=simulation.id, prepare=prepare)
        if created:
            for note in self.notes(simulation):
                self.storage.append_log(job.id, note)
            edited = self._edits(simulation)
            if edited:  # the run's manifest.json holds the files as they were run
                self.storage.append_log(job.id, "configuration files edited by hand: " + ", ".join(
                    f"{name} ({edit.kind})" for name, edit in sorted(edited.items())))
        return job, created

    def output_dir(self, simulation: Simulation) -> tuple[Job, Path]:
        """The output directory of the latest successful run."""
        job = self.latest_job(simulation, successful=True)
        if job is None:
            raise NotFoundError(f"simulation {simulation.title!r} has no finished run",
                                hint="run it, then wait for the job to succeed")
        return job, self.storage.job_results_dir(job.id) / "output"

    def list_outputs(self, simulation: Simulation) -> tuple[Job, list[dict], list[dict]]:
        """The latest run's job, its files (path, size), and its main files (path, title)."""
        job, output = self.output_dir(simulation)
        files = [{"path": path.relative_to(output).as_posix(), "size": path.stat().st_size}
                 for path in sorted(output.rglob("*")) if path.is_file()]
        return job, files, gcbm_outputs.main_files(output)

    def output_file(self, simulation: Simulation, relative: str) -> Path:
        _, output = self.output_dir(simulation)
        path = self.storage.resolve_inside(output, relative)
        if not path.is_file():
            raise NotFoundError(f"no output file {relative!r}")
        return path

    def annual_summary(self, simulation: Simulation) -> list[dict]:
        _, output = self.output_dir(simulation)
        return gcbm_outputs.annual_summary(output)

    def indicators(self, simulation: Simulation) -> list[dict[str, Any]]:
        """The run's output items: name, unit, kind, years (and description), as its
        manifest declares them."""
        _, output = self.output_dir(simulation)
        return gcbm_outputs.describe_items(output)

    @staticmethod
    def indicator_choices() -> list[dict[str, Any]]:
        """The items a run can write (GCBM's standard WriteVariableGeotiff items, the
        templates'): the choices of `outputs.geotiff_indicators`, with unit, kind, description."""
        return gcbm_outputs.describe_module_items(standard_geotiff_module())

    def indicator_series(self, simulation: Simulation, indicator: str) -> list[dict]:
        _, output = self.output_dir(simulation)
        return gcbm_outputs.indicator_series(output, indicator)

    # -- indicator maps (the COGs of the latest successful run) ----------------------------------
    def maps(self, simulation: Simulation) -> tuple[Job, list[dict]]:
        """The latest run's job and, per indicator with maps: its unit and years."""
        job, output = self.output_dir(simulation)
        return job, maps.list_maps(gcbm_outputs.map_catalogue(output))

    def _map_layer(self, simulation: Simulation, indicator: str, year: str) -> MapLayer:
        _, output = self.output_dir(simulation)
        return maps.find_layer(gcbm_outputs.map_catalogue(output), indicator, year)

    def map_info(self, simulation: Simulation, indicator: str, year: str, **style) -> dict:
        """Bounds, size, value range and colour scale of one indicator map (`style`: ramp, vmin,
        vmax, as for `map_tile`)."""
        return maps.describe_map(self._map_layer(simulation, indicator, year), indicator, year,
                                 **style)

    def map_tile(self, simulation: Simulation, indicator: str, year: str, z: int, x: int, y: int,
                 *, ramp: str, vmin: float | None, vmax: float | None) -> bytes:
        """XYZ tile (z, x, y) of one indicator map as a PNG, cached by (run, item, year, z, x,
        y, style): a run's outputs never change once it has succeeded."""
        job, output = self.output_dir(simulation)

        def render() -> bytes:  # only on a miss: a cached tile reads neither manifest nor COG
            layer = maps.find_layer(gcbm_outputs.map_catalogue(output), indicator, year)
            style = self.map_styles.get((job.id, indicator, year, ramp, vmin, vmax),
                                        lambda: maps.tile_style(layer, ramp, vmin, vmax))
            return maps.render_tile(layer, style, z, x, y)

        return self.map_tiles.get((job.id, indicator, year, z, x, y, ramp, vmin, vmax), render)

    def map_value(self, simulation: Simulation, indicator: str, year: str, lon: float,
                  lat: float) -> dict:
        return maps.map_value(self._map_layer(simulation, indicator, year), indicator, year,
                              lon, lat)


def _problem(item: dict[str, Any]) -> InputError:
    """A problem back from its field-level item (`error_item`), as `_prepared` keeps them:
    `error_item` of it gives the item again."""
    problem = InputError(item["message"], source=item.get("source"), field=item["field"],
                         hint=item.get("hint"))
    problem.code = item["code"]
    return problem


def _fingerprint(folder: Path) -> str:
    """Changes whenever a file under `folder` is added, removed, replaced or modified."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0{stat.st_mtime_ns}\n"
                          .encode())
    return digest.hexdigest()
