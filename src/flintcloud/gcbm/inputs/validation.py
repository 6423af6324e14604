"""Validate a set of inputs in full and say what a project made of them would be: one
`InputProblems` with every problem found, or an `InputReport`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flintcloud.errors import InputError, InputProblems, MissingInputError
from flintcloud.gcbm.inputs import checks
from flintcloud.gcbm.inputs.attributes import normalise
from flintcloud.gcbm.inputs.config import ConfigDocuments, standard_item_names
from flintcloud.gcbm.inputs.grid import TargetGrid
from flintcloud.gcbm.inputs.model import (
    LAYER_VARIABLES,
    ROLE_LAYER_NAMES,
    LayerInput,
    ProjectInputs,
    Role,
)
from flintcloud.gcbm.inputs.settings import GcbmSettings
from flintcloud.gcbm.project.config import Tile, read_project
from flintcloud.gcbm.project.modules import SETTINGS_KEYS


@dataclass
class InputReport:
    """What was found: the grid, the study area, the period, the spatial unit, the layers."""

    source: str
    form: str
    cell_size: float
    tiles: list[Tile]
    n_pixels: int
    start_year: int
    end_year: int
    spatial_unit_id: int | None  # None: no database to look it up in
    admin_boundary: str | None  # None: the database's only spatial unit, unnamed
    eco_boundary: str | None
    layers: list[dict]  # name, role, file, attributes_source, reprojected
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"source": self.source, "form": self.form, "cell_size": self.cell_size,
                "tiles": [{"x": t.x, "y": t.y, "index": t.index} for t in self.tiles],
                "n_pixels": self.n_pixels, "start_year": self.start_year,
                "end_year": self.end_year, "spatial_unit_id": self.spatial_unit_id,
                "admin_boundary": self.admin_boundary, "eco_boundary": self.eco_boundary,
                "layers": self.layers, "warnings": self.warnings}


@dataclass
class CheckedInputs:
    """Inputs that passed every check, with how each raster is to be written."""

    inputs: ProjectInputs
    report: InputReport
    grid: TargetGrid
    plans: dict[str, checks.RasterPlan]


def reserved_names() -> set[str]:
    """Variable names the templates define: a layer must not take one of them."""
    names = set()
    documents = ConfigDocuments.from_templates(Path("."))
    for document in documents.documents.values():
        names.update(document.get("Variables", {}))
        names.update(document.get("SpinupVariables", {}))
    return names


def template_constants() -> set[str]:
    """The templates' constant variables (a number, text or flag, not a query or a layer)."""
    documents = ConfigDocuments.from_templates(Path("."))
    return {name for document in documents.documents.values()
            for name, value in document.get("Variables", {}).items()
            if value is None or isinstance(value, str | int | float | bool)}


def _check_roles(inputs: ProjectInputs, problems: InputProblems, *, generated: bool) -> None:
    if not inputs.by_role(Role.CLASSIFIER):
        problems.add("no classifier layer: GCBM simulates the pixels where every classifier "
                     "has a value", source=inputs.source, field="layers", kind=MissingInputError)
    for role, name in ROLE_LAYER_NAMES.items():
        count = len(inputs.by_role(role))
        if count == 0 and name in inputs.constants:
            continue  # a number for every pixel, as GCBM accepts any variable
        if count != 1:
            problems.add(f"expected one {role} layer (GCBM's {name}), found {count}",
                         source=inputs.source, field="layers",
                         kind=InputError if count else MissingInputError)
    seen: dict[str, LayerInput] = {}
    reserved = reserved_names() if generated else set()
    for layer in inputs.layers:
        folded = layer.name.lower()
        if folded in seen:
            problems.add(f"layer name {layer.name!r} is used by both {seen[folded].path.name} "
                         f"and {layer.path.name}", source=inputs.source, field="layers")
        seen[folded] = layer
        if layer.name in reserved and layer.name != LAYER_VARIABLES.get(layer.role):
            problems.add(f"layer name {layer.name!r} is one of GCBM's variables",
                         source=layer.path.name, field="name", hint="rename the file")


def _order_classifiers(inputs: ProjectInputs, order: list[str]) -> None:
    """Classifier layers first, in the database's classifier order (the order of GCBM's
    classifier set and of the results' classifier columns); the others keep theirs."""
    rank = {name: index for index, name in enumerate(order)}
    classifiers = sorted(inputs.by_role(Role.CLASSIFIER), key=lambda one: rank.get(one.name, 0))
    inputs.layers = classifiers + [one for one in inputs.layers if one.role is not Role.CLASSIFIER]


def check_each_file(inputs: ProjectInputs, problems: InputProblems, *, grid: TargetGrid | None = None,
                    generated: bool = True) -> tuple[TargetGrid | None, dict[str, checks.RasterPlan],
                                                     checks.InputDatabase | None]:
    """The checks of each file on its own, the first stage of `check_inputs`: layer names,
    rasters readable, of a type GCBM reads and on the grid, the database a GCBM input database.
    Returns the grid, the rasters' plans and the database (open, or None)."""
    _check_roles(inputs, problems, generated=generated)
    grid, plans = checks.plan_rasters(inputs, problems, grid=grid)
    db = checks.open_database(inputs, problems)
    checks.check_modules(inputs, db, set(standard_item_names()), problems,
                         variables=reserved_names() if generated else None,
                         constants=template_constants() if generated else None)
    if db is not None:
        checks.check_spatial_unit_layers(inputs, db, problems)
    return grid, plans, db


def check_inputs(inputs: ProjectInputs, form: str, *, grid: TargetGrid | None = None,
                 candidates: list[Tile] | None = None, generated: bool = True) -> CheckedInputs:
    """Run every check; raise InputProblems listing all problems, or return the plan.

    `grid` and `candidates` (tiles) are a complete project's; otherwise the grid is the first
    classifier's and the study area the tiles where every classifier has data.
    """
    problems, warnings = InputProblems(), list[str]()
    grid, plans, db = check_each_file(inputs, problems, grid=grid, generated=generated)
    unit = None
    try:
        if db is not None:
            unit = checks.spatial_unit(inputs, db, problems)
            checks.check_classifiers(inputs, db, problems)
            _order_classifiers(inputs, list(db.classifier_values()))
            checks.check_disturbances(inputs, db, unit, problems)
            checks.check_spinup(inputs, db, unit, problems)
        years = checks.simulation_years(inputs, problems, warnings)
        found = checks.scan(inputs, grid, plans, problems, candidates) if grid else None
        if found is not None:
            if not found.tiles:
                problems.add("the classifier layers have no pixel where all of them have data",
                             source=inputs.source, field="layers")
            checks.check_values(inputs, found, problems)
            if db is not None:
                checks.check_growth_curves(inputs, db, found, problems)
                checks.check_spatial_unit_pairs(inputs, db, found, problems)
    finally:
        if db is not None:
            db.close()
    problems.raise_if_any(inputs.source)
    # Each of these is None only after a problem was added, and raised just above.
    assert grid is not None and found is not None and years is not None
    report = InputReport(
        inputs.source, form, grid.cell, found.tiles, found.n_pixels, years[0], years[1], unit,
        inputs.admin_boundary, inputs.eco_boundary,
        [{"name": layer.name, "role": str(layer.role), "file": layer.path.name,
          "attributes_source": layer.attributes_source,
          "reprojected": not plans[layer.name].aligned} for layer in inputs.layers],
        warnings)
    return CheckedInputs(inputs, report, grid, plans)


def project_inputs(documents: ConfigDocuments, settings: GcbmSettings,
                   problems: InputProblems) -> ProjectInputs:
    """A complete project's inputs as `ProjectInputs`, from its documents and `settings`
    (which may be edited ones). Files must lie inside the project."""
    root = documents.config_dir.parent.resolve()
    parameters = settings.spinup.parameters if settings.spinup else None
    inputs = ProjectInputs(source=documents.config_dir.parent.name,
                           start_year=settings.start_year, end_year=settings.end_year,
                           admin_boundary=settings.admin_boundary,
                           eco_boundary=settings.eco_boundary,
                           spinup_parameters=parameters.model_dump() if parameters else None,
                           sections=settings.model_dump(include=set(SETTINGS_KEYS),
                                                        exclude_none=True, by_alias=True))
    for name in ROLE_LAYER_NAMES.values():
        value = documents.variable(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            inputs.constants[name] = value
    inputs.classifier_constants = documents.classifier_constants()
    inputs.spatial_unit_layers = {
        variable: (layer, settings.layers[layer].attributes if layer in settings.layers else None)
        for variable, layer in documents.spatial_unit_layers().items()}
    database = documents.database_path()
    if database.is_relative_to(root):
        inputs.database = database
    else:
        problems.add("the database lies outside the project", source="provider_config.json",
                     field="Providers.SQLite.path")
    for name, layer in settings.layers.items():
        path = documents.layer_path(name)
        if not path.is_relative_to(root):
            problems.add(f"layer {name!r} lies outside the project",
                         source="provider_config.json", field=f"layers[{name}].layer_path")
            continue
        role = layer.role or Role.OTHER  # a project's layers all have one
        source = f"{path.stem}.json"
        item = LayerInput(name, role, path, attributes_source=source)
        if role.needs_attributes:
            if layer.attributes is None:
                problems.add(f"{role} layer {name!r} has no attribute table",
                             source=source, field="attributes",
                             hint="attributes are never guessed", kind=MissingInputError)
            else:
                item.attributes = normalise(layer.attributes, role,
                                            source=source, field="attributes",
                                            default_year=None, problems=problems)
        inputs.layers.append(item)
    return inputs


def check_project(config_dir: Path, settings: GcbmSettings | None = None) -> CheckedInputs:
    """Check a complete project (optionally with edited `settings`) as uploaded inputs are
    checked: same grid, tiles and files; attributes against its database and rasters."""
    project = read_project(config_dir)  # the structure the engine needs, or ConfigError
    documents = ConfigDocuments.load(config_dir)
    settings = settings or documents.settings()
    problems = InputProblems()
    grid = project.grid
    if (grid.tile_lat, grid.tile_lon, grid.block_lat, grid.block_lon) != (1.0, 1.0, 0.1, 0.1) \
            or grid.cell_lat != grid.cell_lon:
        raise InputError("only GCBM's standard grid (1° tiles, 0.1° blocks, square cells) can "
                         "be validated", source="provider_config.json", field="RasterTiled")
    inputs = project_inputs(documents, settings, problems)
    try:
        checked = check_inputs(inputs, "project", grid=TargetGrid(grid.cell_lat),
                               candidates=project.tiles, generated=False)
    except InputError as err:
        problems.add_error(err)
    problems.raise_if_any(inputs.source)
    return checked


__all__ = ["CheckedInputs", "InputReport", "check_each_file", "check_inputs", "check_project",
           "project_inputs"]
