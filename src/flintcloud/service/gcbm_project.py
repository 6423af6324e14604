"""From uploaded rasters, an input database and a configuration to a runnable GCBM project.

Upstream FLINT.Cloud guessed: it dropped the last five characters of file names to get layer
names and wrote hard-coded attribute tables for the demo. Here every classifier and disturbance
layer must come with its attribute table (pixel value -> classifier value, or -> disturbance
event), supplied by the user; a run is refused with every missing or inconsistent item listed.
The project written has upstream's layout (gcbm-spec.md §1.1), so any GCBM engine can run it.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sqlite3
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flintcloud.service.errors import FieldErrors
from flintcloud.service.validation import RasterInfo, grid_problems, inspect_geotiff, raster_values


class Category(StrEnum):
    """Upstream's upload categories (and form field names)."""

    DISTURBANCES = "disturbances"
    CLASSIFIERS = "classifiers"
    MISCELLANEOUS = "miscellaneous"
    DB = "db"


RASTER_CATEGORIES = (Category.DISTURBANCES, Category.CLASSIFIERS, Category.MISCELLANEOUS)
RASTER_SUFFIXES = (".tif", ".tiff")
DB_SUFFIXES = (".db", ".sqlite", ".sqlite3")
INPUT_DB_NAME = "gcbm_input.db"  # the name upstream's endpoints (and GCBM's config) expect
REQUIRED_MISCELLANEOUS = ("initial_age", "mean_annual_temperature")  # read by variables.json
# Tables the GCBM variables and modules query (gcbm-spec.md §3-4).
REQUIRED_TABLES = (
    "admin_boundary", "eco_boundary", "spatial_unit", "spinup_parameter", "stump_parameter",
    "classifier", "classifier_value", "growth_curve", "growth_curve_classifier_value",
    "growth_curve_component", "growth_curve_component_value", "species", "genus", "forest_type",
    "vol_to_bio_factor", "vol_to_bio_factor_association", "root_parameter", "turnover_parameter",
    "turnover_parameter_association", "pool", "dom_pool", "decay_parameter", "disturbance_type",
    "disturbance_matrix", "disturbance_matrix_value", "disturbance_matrix_association",
    "land_class", "transition", "transition_type", "transition_classifier_value",
    "transition_rule", "transition_rule_classifier_value",
)
# Upstream's preprocessing: a block is 400 cells and a tile 4000 cells (0.1° and 1° at 0.00025°).
CELLS_PER_BLOCK, CELLS_PER_TILE = 400, 4000
CONFIG_FILES = ("localdomain.json", "pools_cbm.json", "modules_cbm.json", "modules_output.json",
                "spinup.json", "variables.json", "internal_variables.json")
LOGGING_CONF = """[Core]
DisableLogging=false

[Sinks.console]
Destination=Console
Asynchronous=false
AutoFlush=true
Format="<%TimeStamp%> (%Severity%) - %Message%"
Filter="%Severity% >= info"

[Sinks.file]
Destination=TextFile
FileName="../output/logs/Moja_Debug.log"
Asynchronous=false
AutoFlush=true
Format="<%TimeStamp%> (%Severity%) - %Message%"
Filter="%Severity% >= debug"
"""
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def layer_name(filename: str) -> str:
    """The GCBM variable name of a raster file: its stem, without the `_moja` suffix the GCBM
    tiler adds (`Classifier1_moja.tiff` -> `Classifier1`), as an identifier."""
    stem = filename.rsplit(".", 1)[0]
    stem = stem.removesuffix("_moja")
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem)
    return name if _IDENTIFIER.match(name) else f"layer_{name}"


@cache
def template(name: str) -> dict:
    text = resources.files("flintcloud.service").joinpath("gcbm_templates", name).read_text("utf-8")
    return json.loads(text)


def template_modules() -> set[str]:
    return set(template("modules_cbm.json")["Modules"]) | set(template("modules_output.json")["Modules"])


def template_constants() -> dict[str, Any]:
    """The constant (non-transform) variables of variables.json a user may override."""
    return {name: value for name, value in template("variables.json")["Variables"].items()
            if not isinstance(value, dict | list)}


# -- the simulation configuration ---------------------------------------------------------------

class DisturbanceEvent(BaseModel):
    """What a pixel value of a disturbance layer means (gcbm-spec.md §2.4)."""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=1, le=9999)
    disturbance_type: str = Field(min_length=1, description="A disturbance_type.name of the input database.")
    transition: int | None = Field(None, description="A transition id of the input database.")


AttributeTable = dict[str, str | DisturbanceEvent]


class SpinupSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    minimum_rotation: int = Field(10, ge=1)
    delay: int = Field(0, ge=0)
    run_delay: bool = False


class ModuleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


class SimulationConfig(BaseModel):
    """What a user may change in a GCBM simulation; the rest comes from the templates."""

    model_config = ConfigDict(extra="forbid")

    start_date: date = date(2010, 1, 1)
    end_date: date = date(2021, 1, 1)
    modules: dict[str, ModuleSettings] = Field(
        default_factory=dict, description="Per module: enable/disable it, override its settings.")
    spinup: SpinupSettings = Field(default_factory=SpinupSettings)
    variables: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Overrides of constant variables (e.g. admin_boundary).")
    attributes: dict[str, AttributeTable] = Field(
        default_factory=dict, description="Per layer: pixel value -> classifier value, or -> "
                                          "{year, disturbance_type, transition}.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> SimulationConfig:
        if self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date")
        return self

    @field_validator("modules")
    @classmethod
    def _known_modules(cls, modules: dict) -> dict:
        unknown = sorted(set(modules) - template_modules())
        if unknown:
            raise ValueError(f"unknown module(s) {', '.join(unknown)}; modules: "
                             f"{', '.join(sorted(template_modules()))}")
        return modules

    @field_validator("variables")
    @classmethod
    def _known_variables(cls, variables: dict) -> dict:
        unknown = sorted(set(variables) - set(template_constants()))
        if unknown:
            raise ValueError(f"unknown or non-constant variable(s) {', '.join(unknown)}; "
                             f"constants: {', '.join(sorted(template_constants()))}")
        return variables

    @field_validator("attributes")
    @classmethod
    def _pixel_values_are_integers(cls, attributes: dict) -> dict:
        for layer, table in attributes.items():
            for value in table:
                if not re.fullmatch(r"-?\d+", value):
                    raise ValueError(f"{layer}: pixel value {value!r} is not an integer")
        return attributes


def config_errors(err) -> list[dict]:
    """pydantic errors as [{field, message}]."""
    return [{"field": ".".join(str(part) for part in e["loc"]) or "config", "message": e["msg"]}
            for e in err.errors()]


# -- uploaded inputs ------------------------------------------------------------------------------

@dataclass
class Layer:
    name: str
    category: Category
    path: Path
    info: RasterInfo | None = None


@dataclass
class ProjectInputs:
    """What a simulation's inputs directory holds: layers by name, and the input database."""

    layers: dict[str, Layer] = field(default_factory=dict)
    database: Path | None = None

    @classmethod
    def scan(cls, inputs_dir: Path) -> ProjectInputs:
        found = cls()
        for category in RASTER_CATEGORIES:
            folder = inputs_dir / category
            for path in sorted(folder.glob("*")) if folder.is_dir() else ():
                if path.suffix.lower() in RASTER_SUFFIXES:
                    found.layers[layer_name(path.name)] = Layer(layer_name(path.name), category, path)
        database = inputs_dir / Category.DB / INPUT_DB_NAME
        found.database = database if database.is_file() else None
        return found

    def of(self, category: Category) -> list[Layer]:
        return [layer for layer in self.layers.values() if layer.category == category]

    def inspect(self) -> dict[str, str]:
        """Open every raster (once); returns the layers that are not usable GeoTIFFs."""
        problems = {}
        for layer in self.layers.values():
            if layer.info is None:
                result = inspect_geotiff(layer.path)
                if isinstance(result, str):
                    problems[layer.name] = result
                else:
                    layer.info = result
        return problems


def database_vocabulary(database: Path) -> dict[str, Any]:
    """What attribute tables may name: classifier values by classifier, disturbance type names
    and transition ids of an input database."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        classifiers: dict[str, set[str]] = {name: set() for (name,) in
                                            connection.execute("SELECT name FROM classifier")}
        for name, value in connection.execute(
                "SELECT c.name, cv.value FROM classifier_value cv "
                "JOIN classifier c ON cv.classifier_id = c.id"):
            classifiers.setdefault(name, set()).add(str(value))
        return {
            "classifiers": classifiers,
            "disturbance_types": {name for (name,) in connection.execute("SELECT name FROM disturbance_type")},
            "transitions": {int(tid) for (tid,) in connection.execute("SELECT id FROM transition")},
        }
    finally:
        connection.close()


def project_problems(inputs: ProjectInputs, config: SimulationConfig, *,
                     check_pixel_values: bool = True) -> list[dict]:
    """Everything that stops the project from running, each as {field, message}."""
    problems: list[dict] = []

    def problem(where: str, message: str) -> None:
        problems.append({"field": where, "message": message})

    if inputs.database is None:
        problem("db", f"no input database uploaded ({INPUT_DB_NAME})")
    if not inputs.of(Category.CLASSIFIERS):
        problem("classifiers", "no classifier layer uploaded")
    for name in REQUIRED_MISCELLANEOUS:
        if name not in inputs.layers:
            problem(f"miscellaneous.{name}", f"layer {name} is required (upload {name}.tiff)")
    for name, message in inputs.inspect().items():
        problem(f"{inputs.layers[name].category}.{name}", message)
    infos = {name: layer.info for name, layer in inputs.layers.items() if layer.info}
    for name, message in grid_problems(infos).items():
        problem(f"{inputs.layers[name].category}.{name}", message)
    for name, info in infos.items():
        if info.crs != "EPSG:4326":
            problem(f"{inputs.layers[name].category}.{name}",
                    f"GCBM needs rasters in WGS84 (EPSG:4326), not {info.crs}")

    needs_table = [layer for layer in inputs.layers.values()
                   if layer.category in (Category.CLASSIFIERS, Category.DISTURBANCES)]
    lacking = [layer.name for layer in needs_table if not config.attributes.get(layer.name)]
    if lacking:
        problem("attributes", "no attribute table for layer(s) " + ", ".join(lacking) +
                " (a raster cannot say which value is which classifier value or disturbance)")
    for name in config.attributes:
        if name not in inputs.layers:
            problem(f"attributes.{name}", f"no uploaded layer is named {name}")

    vocabulary = database_vocabulary(inputs.database) if inputs.database else None
    for layer in needs_table:
        table = config.attributes.get(layer.name) or {}
        for value, meaning in table.items():
            where = f"attributes.{layer.name}.{value}"
            if layer.category == Category.CLASSIFIERS:
                if not isinstance(meaning, str):
                    problem(where, "a classifier layer maps pixel values to classifier values (strings)")
                elif vocabulary is not None:
                    known = vocabulary["classifiers"].get(layer.name)
                    if known is None:
                        problem(f"classifiers.{layer.name}", f"the input database has no classifier "
                                f"named {layer.name} (classifiers: "
                                f"{', '.join(sorted(vocabulary['classifiers']))})")
                        break
                    if meaning not in known:
                        problem(where, f"{meaning!r} is not a value of classifier {layer.name}")
            elif not isinstance(meaning, DisturbanceEvent):
                problem(where, "a disturbance layer maps pixel values to "
                               "{year, disturbance_type, transition}")
            elif vocabulary is not None:
                if meaning.disturbance_type not in vocabulary["disturbance_types"]:
                    problem(where, f"unknown disturbance type {meaning.disturbance_type!r}")
                if meaning.transition is not None and meaning.transition not in vocabulary["transitions"]:
                    problem(where, f"unknown transition {meaning.transition}")
        if check_pixel_values and table and layer.info is not None:
            unexplained = [str(int(v)) for v in raster_values(layer.path) if str(int(v)) not in table]
            if unexplained:
                problem(f"attributes.{layer.name}", "pixel value(s) " + ", ".join(unexplained[:20]) +
                        " have no attribute (GCBM would silently ignore those pixels)")
    return problems


# -- rendering the project ------------------------------------------------------------------------

def _grid(inputs: ProjectInputs) -> dict[str, float]:
    infos = [layer.info for layer in inputs.layers.values() if layer.info]
    cell_lon, cell_lat = infos[0].resolution if infos else (0.00025, 0.00025)
    return {"tileLatSize": cell_lat * CELLS_PER_TILE, "tileLonSize": cell_lon * CELLS_PER_TILE,
            "blockLatSize": cell_lat * CELLS_PER_BLOCK, "blockLonSize": cell_lon * CELLS_PER_BLOCK,
            "cellLatSize": cell_lat, "cellLonSize": cell_lon}


def _clean(number: float) -> float:
    """12 significant digits: 0.00025 * 4000 is 1.0 in the JSON, not 1.0000000000000002."""
    return float(f"{number:.12g}")


def _tiles(inputs: ProjectInputs, grid: dict[str, float]) -> list[dict]:
    """The global 1°-style tiles (gcbm-spec §2.1) the rasters cover."""
    size_x, size_y = grid["tileLonSize"], grid["tileLatSize"]
    per_row = round(360 / size_x)
    tiles = {}
    for layer in inputs.layers.values():
        if layer.info is None:
            continue
        west, south, east, north = layer.info.bounds
        columns = range(math.floor((west + 180) / size_x + 1e-9), math.ceil((east + 180) / size_x - 1e-9))
        rows = range(math.floor((90 - north) / size_y + 1e-9), math.ceil((90 - south) / size_y - 1e-9))
        for row in rows:
            for column in columns:
                index = row * per_row + column
                tiles[index] = {"x": _clean(-180 + column * size_x), "y": _clean(90 - row * size_y),
                                "index": index}
    return [tiles[index] for index in sorted(tiles)]


def _nodata(info: RasterInfo) -> float | int | None:
    if info.nodata is None:
        return None
    if info.dtype.startswith("float"):
        return float(str(np.dtype(info.dtype).type(info.nodata)))  # 3.4e+38, as GDAL prints it
    return int(info.nodata)


def layer_document(layer: Layer, grid: dict[str, float], table: AttributeTable | None) -> dict:
    """The layer's metadata JSON (gcbm-spec §2.2), with its attribute table if it has one."""
    info = layer.info
    document = {"layer_type": "GridLayer", "layer_data": info.gdal_type if info else "Byte",
                "nodata": _nodata(info) if info else None,
                **{key: _clean(value) for key, value in grid.items()}}
    if table:
        document["attributes"] = {
            value: meaning.model_dump(exclude_none=True) if isinstance(meaning, DisturbanceEvent)
            else meaning
            for value, meaning in sorted(table.items(), key=lambda item: int(item[0]))}
    return document


def _apply_module_settings(document: dict, modules: dict[str, ModuleSettings]) -> None:
    for name, override in modules.items():
        module = document["Modules"].get(name)
        if module is None:
            continue
        if override.enabled is not None:
            module["enabled"] = override.enabled
        if override.settings:
            module["settings"] = {**module.get("settings", {}), **override.settings}


def render_project(inputs: ProjectInputs, config: SimulationConfig) -> dict[str, Any]:
    """Every generated file of the project: {relative path: JSON document or text}."""
    inputs.inspect()
    grid = _grid(inputs)
    disturbances = sorted(layer.name for layer in inputs.of(Category.DISTURBANCES))
    classifiers = sorted(layer.name for layer in inputs.of(Category.CLASSIFIERS))

    localdomain = deepcopy(template("localdomain.json"))
    domain = localdomain["LocalDomain"]
    domain["start_date"] = config.start_date.strftime("%Y/%m/%d")
    domain["end_date"] = config.end_date.strftime("%Y/%m/%d")
    landscape = domain["landscape"]
    landscape["tiles"] = _tiles(inputs, grid)
    landscape["tile_size_x"], landscape["tile_size_y"] = _clean(grid["tileLonSize"]), _clean(grid["tileLatSize"])
    landscape["x_pixels"] = landscape["y_pixels"] = CELLS_PER_TILE

    modules_cbm = deepcopy(template("modules_cbm.json"))
    modules_cbm["Modules"]["CBMDisturbanceListener"]["settings"]["vars"] = disturbances
    _apply_module_settings(modules_cbm, config.modules)
    modules_output = deepcopy(template("modules_output.json"))
    _apply_module_settings(modules_output, config.modules)

    spinup = deepcopy(template("spinup.json"))
    spinup["Spinup"]["enabled"] = config.spinup.enabled
    spinup["SpinupVariables"] = {"delay": config.spinup.delay,
                                 "minimum_rotation": config.spinup.minimum_rotation,
                                 "run_delay": config.spinup.run_delay}

    variables = deepcopy(template("variables.json"))
    variables["Variables"].update(config.variables)
    for name in sorted(inputs.layers):
        variables["Variables"][name] = {"transform": {
            "library": "internal.flint", "type": "LocationIdxFromFlintDataTransform",
            "provider": "RasterTiled", "data_id": name}}
    variables["Variables"]["initial_classifier_set"] = {"transform": {
        "type": "CompositeTransform", "library": "internal.flint", "vars": classifiers}}

    provider = {"Providers": {
        "SQLite": {"path": f"../input_database/{INPUT_DB_NAME}", "type": "SQLite"},
        "RasterTiled": {
            "layers": [{"name": name, "layer_path": f"../layers/tiled/{name}.tiff",
                        "layer_prefix": name} for name in sorted(inputs.layers)],
            **{key: _clean(value) for key, value in grid.items()},
            "type": "RasterTiledGDAL", "library": "moja.modules.gdal"}}}

    files: dict[str, Any] = {
        "config/localdomain.json": localdomain,
        "config/pools_cbm.json": template("pools_cbm.json"),
        "config/modules_cbm.json": modules_cbm,
        "config/modules_output.json": modules_output,
        "config/spinup.json": spinup,
        "config/variables.json": variables,
        "config/internal_variables.json": template("internal_variables.json"),
        "config/provider_config.json": provider,
        "config/gcbm_config.cfg": "".join(f"config={name}\n" for name in CONFIG_FILES),
        "config/logging.conf": LOGGING_CONF,
    }
    for name, layer in sorted(inputs.layers.items()):
        files[f"layers/tiled/{name}.json"] = layer_document(layer, grid, config.attributes.get(name))
    return files


def config_document_names(inputs: ProjectInputs) -> dict[str, str]:
    """getConfig names -> project file: config stems, layer names and the uploaded file stems."""
    names = {Path(path).stem: path for path in
             [*(f"config/{name}" for name in CONFIG_FILES), "config/provider_config.json"]}
    for name, layer in inputs.layers.items():
        names[name] = f"layers/tiled/{name}.json"
        names[layer.path.stem] = f"layers/tiled/{name}.json"
    return names


def write_project(inputs: ProjectInputs, config: SimulationConfig, destination: Path) -> None:
    """Check the inputs (422 listing every problem), then write the project into `destination`."""
    problems = project_problems(inputs, config)
    if problems:
        raise FieldErrors("the simulation cannot run yet: " +
                          "; ".join(f"{p['field']}: {p['message']}" for p in problems), problems)
    for relative, content in render_project(inputs, config).items():
        path = destination / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else json.dumps(content, indent=4, ensure_ascii=False)
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    for name, layer in inputs.layers.items():
        _link_or_copy(layer.path, destination / "layers" / "tiled" / f"{name}.tiff")
    database = destination / "input_database" / INPUT_DB_NAME
    database.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(inputs.database, database)  # a copy: later table renames must not change a run


def _link_or_copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
