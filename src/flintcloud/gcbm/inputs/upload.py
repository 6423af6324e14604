"""Inputs in upstream FLINT.Cloud's upload form, edited piece by piece: what the service's
simulations hold (docs/gcbm-inputs.md).

An upload folder has `classifiers/`, `disturbances/`, `miscellaneous/`, `db/gcbm_input.db` and
`attributes.json`, the attributes file that holds its settings as given (no defaults added).
Every edit is refused when `check_files` finds a problem in a file; what is still missing is not
a problem until the inputs are prepared (`prepare_project`). Callers serialise edits of one
folder (the service holds a lock per simulation).
"""

from __future__ import annotations

import json
import os
import shutil
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import rasterio
import yaml

from flintcloud.errors import InputError, InputProblems, RasterError, UnsupportedFileError
from flintcloud.gcbm.inputs.checks import InputDatabase
from flintcloud.gcbm.inputs.forms import RASTER_SUFFIXES, misc_role
from flintcloud.gcbm.inputs.grid import GDAL_TYPES, inspect_raster
from flintcloud.gcbm.inputs.model import SPATIAL_UNIT_ROLES, Role, layer_name_from_file
from flintcloud.gcbm.inputs.prepare import check_files
from flintcloud.gcbm.inputs.settings import (
    GcbmSettings,
    by_layer_name,
    from_former_names,
    merge,
    merge_patch,
    parse_settings,
    read_settings_file,
)
from flintcloud.io.documents import parse_json, parse_yaml


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


def create_upload_folder(folder: Path, settings: GcbmSettings | None = None) -> None:
    """An empty upload folder (its category folders) with `settings` (none by default: no
    period or spatial unit is guessed; `prepare_project` lists what is missing)."""
    for category in Category:
        (folder / category).mkdir(parents=True, exist_ok=True)
    write_settings(folder, settings or GcbmSettings())


def read_settings(folder: Path) -> GcbmSettings:
    """The folder's settings, as given (`model_dump(exclude_unset=True)` gives them back)."""
    path = folder / SETTINGS_FILE
    if not path.is_file():
        return GcbmSettings()
    return parse_settings(json.loads(path.read_text(encoding="utf-8")), source=SETTINGS_FILE)


def write_settings(folder: Path, settings: GcbmSettings) -> None:
    """Write the settings file atomically (a new file: the old one may be a hard link)."""
    document = settings.model_dump(mode="json", exclude_unset=True)
    temporary = folder / f".{SETTINGS_FILE}.partial"
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    os.replace(temporary, folder / SETTINGS_FILE)


def category_of(relative: PurePosixPath, given: Category | None, label: str) -> Category:
    """The category of a received file: the folder it came in (a zip's folders name the
    categories, as upstream lays them out), else `given`, else db for a database file."""
    for part in relative.parts[:-1]:
        if part in Category.__members__.values():
            return Category(part)
    if given is not None:
        return given
    if relative.suffix.lower() in DB_SUFFIXES:
        return Category.DB
    raise UnsupportedFileError(
        "cannot tell whether it is a disturbance, classifier or miscellaneous layer",
        source=label, field=str(relative),
        hint="put it in a disturbances/, classifiers/ or miscellaneous/ folder, or upload it "
             "with a category")


def add_files(folder: Path, received: list[tuple[Category, Path]], documents: list[Path],
              staging: Path, *, attributes: str | None = None) -> None:
    """Add (or replace) files and attributes files (`documents`, and `attributes`: an
    attributes file's JSON or YAML text), check the inputs they make with what is already
    there, keep all or nothing. `received` files are moved; `staging` is a scratch folder on
    the folder's file system."""
    if attributes:  # YAML also reads JSON, but its errors say YAML
        attributes = _keyed_by_layer(attributes, received)
        form = staging / ("attributes.json" if attributes.lstrip().startswith("{")
                          else "attributes.yaml")
        form.write_text(attributes, encoding="utf-8")
        documents = [form, *documents]
    settings = read_settings(folder)
    for document in documents:
        settings = merge(settings, _read_document(document))
    candidate = _candidate(folder, received, staging / "candidate" / "inputs")
    write_settings(candidate, _simulation_settings(settings))
    check_files(candidate)
    os.replace(folder, staging / "retired")
    os.replace(candidate, folder)


def remove_file(folder: Path, path: Path) -> None:
    """Remove one input file (found inside `folder`); a layer's settings (its attribute table)
    go with its raster."""
    path.unlink()
    settings = read_settings(folder)
    if path.parent.name != Category.DB and \
            settings.layers.pop(layer_name_from_file(path), None) is not None:
        write_settings(folder, settings)


def update_settings(folder: Path, patch: Any, staging: Path) -> GcbmSettings:
    """Apply a JSON merge patch (RFC 7396) of the settings, checked like an uploaded
    attributes file; the former names (start_date, end_date, attributes, variables) still
    work. `staging` is a scratch folder. Returns the new settings."""
    if not isinstance(patch, dict):
        raise InputError("the configuration patch must be a JSON object", field="config")
    stored = read_settings(folder).model_dump(mode="json", exclude_unset=True)
    changed = merge_patch(stored, by_layer_name(from_former_names(patch)))
    settings = _simulation_settings(parse_settings(changed, source="settings"))
    write_settings(staging, settings)
    check_files(folder, attributes=staging / SETTINGS_FILE)
    write_settings(folder, settings)
    return settings


def describe_inputs(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The files by category, with each raster's grid, its layer's role and whether that
    needs an attribute table and has one."""
    layers = read_settings(folder).layers
    described: dict[str, list[dict[str, Any]]] = {category.value: [] for category in Category}
    for category in RASTER_CATEGORIES:
        for path in _rasters(folder / category):
            name = layer_name_from_file(path)
            layer = layers.get(name)
            role = _role(category, name, layer.role if layer is not None else None)
            described[category].append({
                "name": path.name, "layer": name, "size": path.stat().st_size,
                "raster": _raster_summary(path), "role": str(role),
                "needs_attributes": role.needs_attributes,
                "has_attributes": bool(layer is not None and layer.attributes)})
    database = folder / Category.DB / INPUT_DB_NAME
    if database.is_file():
        described[Category.DB].append({"name": INPUT_DB_NAME, "size": database.stat().st_size})
    return described


def attribute_choices(folder: Path, *, max_values: int = 1000) -> dict[str, Any]:
    """Per layer with an attribute table the pixel values it holds (at most `max_values`),
    and the input database's classifier values, disturbance types, transitions and spatial
    units (empty until the database is uploaded); `boundaries`: per spatial-unit layer, the
    names its table may give."""
    settings = read_settings(folder).layers
    layers, units = {}, {}
    for category in RASTER_CATEGORIES:
        for path in _rasters(folder / category):
            name = layer_name_from_file(path)
            entry = settings.get(name)
            role = _role(category, name, entry.role if entry is not None else None)
            if role.needs_attributes:
                layers[name] = {"category": category.value,
                                "pixel_values": _pixel_values(path, max_values)}
            if role in SPATIAL_UNIT_ROLES:
                units[name] = SPATIAL_UNIT_ROLES[role]
    choices: dict[str, Any] = {"layers": layers, "classifiers": {}, "disturbance_types": [],
                               "transitions": [], "spatial_units": [], "boundaries": {}}
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
            choices["boundaries"] = {name: sorted({unit[variable]
                                                   for unit in choices["spatial_units"]})
                                     for name, variable in units.items()}
        finally:
            db.close()
    return choices


def _role(category: Category, name: str, given: Role | None) -> Role:
    if category is Category.CLASSIFIERS:
        return Role.CLASSIFIER
    if category is Category.DISTURBANCES:
        return Role.DISTURBANCE
    return given or misc_role(name)


def _keyed_by_layer(attributes: str, received: list[tuple[Category, Path]]) -> str:
    """`attributes` as given, or, when it is a bare table (pixel value -> value, e.g.
    `{"1": "TA", "2": "BP"}`) sent with a single raster, that raster's layer's table. A bare
    table with several rasters is refused: it could be any of them."""
    try:
        document = parse_json(attributes) if attributes.lstrip().startswith("{") \
            else parse_yaml(attributes)
    except (ValueError, yaml.YAMLError):  # DocumentError and JSONDecodeError are ValueErrors
        return attributes  # reported, with line and column, when read as an attributes file
    if not isinstance(document, dict) or not document or \
            not all(_is_pixel_value(key) for key in document):
        return attributes
    rasters = [path for category, path in received if category in RASTER_CATEGORIES]
    if len(rasters) != 1:
        raise InputProblems([InputError(
            f"a bare attribute table (pixel value -> value) applies to one raster; this upload "
            f"has {len(rasters)}", field="attributes", source="attributes",
            hint='key the tables by layer: {"Classifier1": {"1": "TA"}, ...}')])
    return json.dumps({layer_name_from_file(rasters[0]): document})


def _is_pixel_value(key: Any) -> bool:
    if isinstance(key, bool):
        return False
    if isinstance(key, int):
        return True
    text = str(key).strip()
    return text.lstrip("-").isdigit()


def _read_document(path: Path) -> GcbmSettings:
    """An uploaded attributes file (JSON, YAML or CSV) with its layers keyed by layer name, or
    InputProblems naming its fields."""
    problems = InputProblems()
    settings = read_settings_file(path, problems)
    if settings is None:
        problems.raise_if_any(path.name)
        settings = GcbmSettings()
    return parse_settings(by_layer_name(settings.model_dump(exclude_unset=True)), source=path.name)


def _simulation_settings(settings: GcbmSettings) -> GcbmSettings:
    """`settings`, refused when they name a database: an upload folder has its own."""
    if settings.database is not None:
        raise InputProblems([InputError("not a setting of a simulation: upload the database "
                                        "instead", field="database", source="settings")])
    return settings


def _candidate(folder: Path, received: list[tuple[Category, Path]], target: Path) -> Path:
    """The inputs with the received files in place: a copy of hard links (the files are only
    ever replaced, never written in place). A raster replaces its layer's file."""
    shutil.copytree(folder, target, copy_function=os.link)
    problems = InputProblems()
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
                        problems.add(f"layer {layer_name_from_file(path)} is already a {other} "
                                     "layer", source=path.name, field=str(category))
                    existing.unlink()
        if not ok:
            problems.add("expected an SQLite database (.db, .sqlite or .sqlite3)"
                         if category is Category.DB else "expected a GeoTIFF (.tif or .tiff)",
                         source=path.name, field=str(category))
            continue
        os.replace(path, destination)
    problems.raise_if_any("upload")
    return target


def _rasters(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.glob("*") if path.suffix.lower() in RASTER_SUFFIXES)


def _raster_summary(path: Path) -> dict[str, Any] | None:
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
