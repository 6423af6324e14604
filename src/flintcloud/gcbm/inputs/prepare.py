"""From any accepted form of GCBM inputs to a runnable GCBM project: `prepare_project`, and
`validate_inputs` for the same checks without writing anything."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flintcloud.errors import InputError, InputProblems, MissingInputError
from flintcloud.gcbm.inputs.attributes import normalise, read_sidecar, year_from_name
from flintcloud.gcbm.inputs.config import ConfigDocuments
from flintcloud.gcbm.inputs.edit import find_config_dir, merge_settings, update_config
from flintcloud.gcbm.inputs.forms import detect_form, find_root, read_inputs, resolve_inside
from flintcloud.gcbm.inputs.grid import write_layer
from flintcloud.gcbm.inputs.model import Align, ProjectInputs, Role
from flintcloud.gcbm.inputs.settings import GcbmSettings, read_settings_file
from flintcloud.gcbm.inputs.validation import (
    CheckedInputs,
    InputReport,
    check_each_file,
    check_inputs,
    check_project,
)
from flintcloud.gcbm.project.config import read_project
from flintcloud.io.archive import MAX_BYTES, extract_zip

LAYER_FOLDER = Path("layers", "tiled")
DATABASE_FILE = Path("input_database", "gcbm_input.db")


def prepare_project(source: str | Path, target_dir: str | Path, *,
                    attributes: str | Path | None = None, start_year: int | None = None,
                    end_year: int | None = None, admin_boundary: str | None = None,
                    eco_boundary: str | None = None, align: str | Align | None = None,
                    max_bytes: int = MAX_BYTES) -> Path:
    """Make a runnable GCBM project in `target_dir` (new or empty) from `source`: a zip or
    folder in upstream's upload form, a folder with `project.yaml`, or a complete project.
    Returns the project's config folder. Raises InputProblems listing every problem.

    `attributes` is an attributes (or extra description) file; the keyword settings override
    the files'. `end_year` is the last simulated year. See docs/gcbm-inputs.md.
    """
    target = Path(target_dir)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError("exists and is not an empty folder", source=str(target),
                         hint="prepare into a new folder")
    overrides = _overrides(start_year, end_year, admin_boundary, eco_boundary, align)
    staging = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        with _unpacked(source, max_bytes) as root:
            form = _form(root, source)
            if form == "project":
                config = _pass_through(root, staging, attributes, overrides)
            else:
                checked = _checked(root, form, attributes, overrides)
                write_project(checked, staging)
                config = Path("config")
        if target.exists():
            target.rmdir()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    config_dir = target / config
    read_project(config_dir)  # what was written opens as a project
    return config_dir


def validate_inputs(source: str | Path, *, attributes: str | Path | None = None,
                    start_year: int | None = None, end_year: int | None = None,
                    admin_boundary: str | None = None, eco_boundary: str | None = None,
                    align: str | Align | None = None, max_bytes: int = MAX_BYTES) -> InputReport:
    """Check `source` as `prepare_project` would; the report says what the project would be."""
    overrides = _overrides(start_year, end_year, admin_boundary, eco_boundary, align)
    with _unpacked(source, max_bytes) as root:
        form = _form(root, source)
        if form != "project":
            return _checked(root, form, attributes, overrides).report
        config_dir = _project_config(root)
        documents = ConfigDocuments.load(config_dir)
        changes = _project_changes(root, documents, attributes, overrides)
        settings = merge_settings(documents, changes, config_dir.parent.name)
        return check_project(config_dir, settings).report


def check_files(source: str | Path, *, attributes: str | Path | None = None,
                max_bytes: int = MAX_BYTES) -> None:
    """The first checks of `validate_inputs`, those of each file on its own: attributes and
    description files well-formed, rasters readable, of a type GCBM reads and on the first
    classifier's grid, the database a GCBM input database. Neither what is still missing (a
    layer, the database, an attribute table) nor whether the files agree with each other
    (classifier values, pixel values, growth curves): for inputs that arrive piece by piece,
    as the service's uploads do. Raises InputProblems."""
    with _unpacked(source, max_bytes) as root:
        form = _form(root, source)
        if form == "project":  # complete: checked as a whole
            validate_inputs(root, attributes=attributes)
            return
        problems = InputProblems()
        inputs = read_inputs(root, form, Path(attributes) if attributes else None, problems)
        _, _, db = check_each_file(inputs, problems)
        if db is not None:
            db.close()
    problems.problems = [item for item in problems.problems
                         if not isinstance(item, MissingInputError)]
    problems.raise_if_any(inputs.source)


def _overrides(start_year, end_year, admin_boundary, eco_boundary, align) -> dict[str, Any]:
    values = {"start_year": start_year, "end_year": end_year, "admin_boundary": admin_boundary,
              "eco_boundary": eco_boundary,
              "align": Align(align) if align is not None else None}
    return {key: value for key, value in values.items() if value is not None}


@contextmanager
def _unpacked(source: str | Path, max_bytes: int) -> Iterator[Path]:
    path = Path(source)
    if path.is_dir():
        yield find_root(path)
    elif path.is_file():
        with tempfile.TemporaryDirectory(prefix="gcbm-inputs-") as temporary:
            extract_zip(path, temporary, max_bytes=max_bytes)
            yield find_root(Path(temporary))
    else:
        raise InputError("not found", source=str(path))


def _form(root: Path, source: str | Path) -> str:
    form = detect_form(root)
    if form is None:
        raise InputError("not a GCBM project (config/gcbm_config.cfg), an upload (classifiers/, "
                         "disturbances/, miscellaneous/, db/) or a folder with project.yaml",
                         source=Path(source).name, hint="see docs/gcbm-inputs.md")
    return form


def _checked(root: Path, form: str, attributes: str | Path | None,
             overrides: dict[str, Any]) -> CheckedInputs:
    problems = InputProblems()
    inputs = read_inputs(root, form, Path(attributes) if attributes else None, problems)
    for key, value in overrides.items():
        setattr(inputs, key, value)
    try:
        checked = check_inputs(inputs, form)
    except InputError as err:
        problems.add_error(err)
    problems.raise_if_any(inputs.source)
    return checked


# -- writing a project -----------------------------------------------------------------------

def write_project(checked: CheckedInputs, root: Path) -> Path:
    """Write GCBM's project layout under `root`: tiled layers with their JSONs, the input
    database, the configuration from the templates and a study_area.json. Returns config/."""
    inputs, report, grid = checked.inputs, checked.report, checked.grid
    (root / LAYER_FOLDER).mkdir(parents=True)
    layers = []
    for layer in inputs.layers:
        plan = checked.plans[layer.name]
        with plan.reader(grid) as reader:
            write_layer(reader, report.tiles, root / LAYER_FOLDER / f"{layer.name}.tiff")
        metadata = grid.layer_metadata(plan.dtype, plan.nodata)
        if layer.attributes is not None:
            metadata["attributes"] = layer.attributes
        layers.append((layer.name, layer.role, metadata))
    (root / DATABASE_FILE).parent.mkdir(parents=True)
    assert inputs.database is not None  # checked inputs have their database
    shutil.copyfile(inputs.database, root / DATABASE_FILE)
    documents = ConfigDocuments.from_templates(root / "config")
    documents.set_landscape(grid, report.tiles)
    documents.set_layers(layers)
    documents.apply(GcbmSettings.model_validate({
        "start_year": report.start_year, "end_year": report.end_year,
        "admin_boundary": report.admin_boundary, "eco_boundary": report.eco_boundary,
        **inputs.sections,
        "layers": {layer.name: {"role": layer.role, "attributes": layer.attributes}
                   for layer in inputs.layers}}))
    documents.save(text_templates=True)
    _write_study_area(root / LAYER_FOLDER / "study_area.json", checked)
    return root / "config"


def _write_study_area(path: Path, checked: CheckedInputs) -> None:
    """The tiler's study_area.json (GCBM.Data): read by project tooling, not by GCBM."""
    kinds = {Role.DISTURBANCE: "DisturbanceLayer"}
    tags = {Role.CLASSIFIER: ["classifier"], Role.DISTURBANCE: ["disturbance"]}
    document = {
        "tile_size": 1.0, "block_size": 0.1, "pixel_size": checked.grid.cell,
        "tiles": [{"x": t.x, "y": t.y, "index": t.index} for t in checked.report.tiles],
        "layers": [{"name": layer.name, "type": kinds.get(layer.role, "RasterLayer"),
                    "tags": tags.get(layer.role, [])} for layer in checked.inputs.layers],
    }
    path.write_text(json.dumps(document, indent=4) + "\n", encoding="utf-8")


# -- complete projects -----------------------------------------------------------------------

def _project_config(root: Path) -> Path:
    candidates = sorted(root.glob("**/gcbm_config.cfg"), key=lambda p: len(p.parts))
    return candidates[0].parent


def _pass_through(root: Path, staging: Path, attributes: str | Path | None,
                  overrides: dict[str, Any]) -> Path:
    """Copy a complete project (without outputs), apply any settings given, validate it."""
    config_dir = _project_config(root)
    project_root = config_dir.parent
    changes = _project_changes(root, ConfigDocuments.load(config_dir), attributes, overrides)
    shutil.copytree(project_root, staging,
                    ignore=lambda folder, names: ["output"] if Path(folder) == project_root
                    and "output" in names else [])
    copied = staging / config_dir.relative_to(project_root)
    if changes:
        update_config(copied, changes)
    else:
        check_project(copied)
    return config_dir.relative_to(project_root)


def _project_changes(root: Path, documents: ConfigDocuments, attributes: str | Path | None,
                     overrides: dict[str, Any]) -> dict[str, Any]:
    """Settings changes for a complete project from an attributes file and keywords."""
    changes: dict[str, Any] = {}
    if attributes is not None:
        problems = InputProblems()
        description = read_settings_file(Path(attributes), problems) or GcbmSettings()
        problems.raise_if_any(Path(attributes).name)
        changes.update(description.model_dump(exclude={"layers", "align", "database"},
                                               exclude_unset=True))
        roles, source = documents.roles(), Path(attributes).name
        layers = {}
        for name, entry in description.layers.items():
            if name not in roles:
                problems.add(f"no layer {name!r} in the project", source=source,
                             field=f"layers.{name}")
                continue
            if entry.attributes is None:
                continue
            raw = entry.attributes
            if isinstance(raw, str):
                path = resolve_inside(root, raw, source, f"layers.{name}.attributes", problems)
                if path is None:
                    continue
                raw = read_sidecar(path)
            year = entry.year or year_from_name(documents.layer_path(name).name)
            normalised = normalise(raw, roles[name], source=source,
                                   field=f"layers.{name}.attributes", default_year=year,
                                   problems=problems)
            layers[name] = {"attributes": normalised}
        problems.raise_if_any(source)
        if layers:
            changes["layers"] = layers
    changes.update({key: value for key, value in overrides.items() if key != "align"})
    return changes


__all__ = ["ProjectInputs", "check_files", "find_config_dir", "prepare_project",
           "validate_inputs", "write_project"]
