"""Checks of a set of inputs against each other and against gcbm_input.db: every problem is
collected, none stops the others (a broken database only skips the checks that need it).

Values are bound as SQL parameters; table names are fixed here, never taken from the user.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rasterio.enums import Resampling

from flintcloud.errors import InputProblems, MissingInputError, ParameterDbError, RasterError
from flintcloud.gcbm.inputs.grid import (
    RasterInfo,
    TargetGrid,
    TileReader,
    default_nodata,
    grid_difference,
    inspect_raster,
    output_dtype,
    reference_problem,
    tiles_covering,
)
from flintcloud.gcbm.inputs.model import (
    SPATIAL_UNIT_ROLES,
    Align,
    LayerInput,
    ProjectInputs,
    Role,
)
from flintcloud.gcbm.project.config import Tile
from flintcloud.gcbm.project.listener import STATE_VARIABLES
from flintcloud.gcbm.project.modules import GROWTH_MULTIPLIER_TABLES
from flintcloud.gcbm.science.matching import match_score
from flintcloud.gcbm.science.pools import POOL_BY_NAME

# The tables GCBM's variables (templates/variables.json, spinup.json) read.
GCBM_TABLES = (
    "admin_boundary", "eco_boundary", "spatial_unit", "spinup_parameter", "stump_parameter",
    "land_class", "disturbance_type", "disturbance_matrix", "disturbance_matrix_value",
    "disturbance_matrix_association", "pool", "dom_pool", "decay_parameter", "classifier",
    "classifier_value", "growth_curve", "growth_curve_classifier_value",
    "growth_curve_component", "growth_curve_component_value", "species", "forest_type", "genus",
    "vol_to_bio_factor", "vol_to_bio_factor_association", "root_parameter",
    "turnover_parameter", "turnover_parameter_association", "transition", "transition_type",
    "transition_classifier_value", "transition_rule", "transition_rule_classifier_value",
)
WILDCARD = "?"
_LIST_AT_MOST = 10


def _listing(values: Iterable[Any]) -> str:
    values = sorted(values, key=lambda v: (str(type(v)), v))
    shown = ", ".join(str(v) for v in values[:_LIST_AT_MOST])
    return shown + (f" and {len(values) - _LIST_AT_MOST} more" if len(values) > _LIST_AT_MOST
                    else "")


class InputDatabase:
    """A gcbm_input.db opened read-only, with the lookups the checks need."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        try:
            self.connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
            tables = {name for (name,) in self.connection.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        except sqlite3.DatabaseError as err:
            raise ParameterDbError(f"not an SQLite database ({err})", source=self.name,
                                   hint="upload GCBM's gcbm_input.db") from err
        missing = [table for table in GCBM_TABLES if table not in tables]
        if missing:
            self.connection.close()
            raise ParameterDbError(
                f"not a GCBM input database: {len(missing)} of GCBM's tables are missing "
                f"({_listing(missing)})", source=self.name,
                hint="build one with `flintcloud gcbm build-db`")

    def close(self) -> None:
        self.connection.close()

    def rows(self, sql: str, parameters: tuple = ()) -> list[tuple]:
        try:
            return self.connection.execute(sql, parameters).fetchall()
        except sqlite3.DatabaseError as err:
            raise ParameterDbError(f"cannot be read: {err}", source=self.name) from err

    def classifier_values(self) -> dict[str, dict[str, str]]:
        """Classifier name -> {value folded to lower case: value}, wildcards left out."""
        out: dict[str, dict[str, str]] = {}
        for name, value in self.rows("SELECT c.name, cv.value FROM classifier c LEFT JOIN "
                                     "classifier_value cv ON cv.classifier_id = c.id "
                                     "ORDER BY c.id, cv.id"):
            values = out.setdefault(name, {})
            if value is not None and value != WILDCARD:
                values[str(value).lower()] = str(value)
        return out

    def growth_curves(self) -> dict[int, dict[str, str]]:
        curves: dict[int, dict[str, str]] = {}
        for curve, name, value in self.rows(
                "SELECT g.growth_curve_id, c.name, cv.value FROM growth_curve_classifier_value g "
                "JOIN classifier_value cv ON g.classifier_value_id = cv.id "
                "JOIN classifier c ON cv.classifier_id = c.id"):
            curves.setdefault(int(curve), {})[name] = str(value)
        return curves

    def spatial_units(self) -> list[tuple[int, str, str]]:
        return [(int(i), a, e) for i, a, e in self.rows(
            "SELECT spu.id, a.name, e.name FROM spatial_unit spu "
            "JOIN admin_boundary a ON spu.admin_boundary_id = a.id "
            "JOIN eco_boundary e ON spu.eco_boundary_id = e.id ORDER BY spu.id")]

    def disturbance_types(self) -> dict[str, int]:
        return {name: int(code) for name, code in
                self.rows("SELECT name, code FROM disturbance_type")}

    def types_with_matrix(self, spatial_unit: int) -> set[str]:
        return {name for (name,) in self.rows(
            "SELECT dt.name FROM disturbance_matrix_association dma "
            "JOIN disturbance_type dt ON dma.disturbance_type_id = dt.id "
            "WHERE dma.spatial_unit_id = ?", (spatial_unit,))}

    def has_tables(self, names: Iterable[str]) -> bool:
        found = {name for (name,) in self.rows(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        return set(names) <= found

    def transition_ids(self) -> set[int]:
        return {int(i) for (i,) in self.rows("SELECT id FROM transition")}


def open_database(inputs: ProjectInputs, problems: InputProblems) -> InputDatabase | None:
    if inputs.database is None:
        return None
    try:
        return InputDatabase(inputs.database)
    except ParameterDbError as err:
        problems.add_error(err)
        return None


# -- rasters ---------------------------------------------------------------------------------

@dataclass
class RasterPlan:
    """How one layer is read onto the grid and written as a GCBM layer."""

    layer: LayerInput
    info: RasterInfo
    dtype: str
    nodata: float
    aligned: bool  # on the grid already: read by windows; otherwise reprojected

    def reader(self, grid: TargetGrid) -> TileReader:
        resampling = Resampling.nearest if self.layer.role.is_categorical else Resampling.bilinear
        return TileReader(self.info, grid, dtype=self.dtype, nodata=self.nodata,
                          resampling=resampling, aligned=self.aligned)


def plan_rasters(inputs: ProjectInputs, problems: InputProblems, *,
                 grid: TargetGrid | None = None) -> tuple[TargetGrid | None, dict[str, RasterPlan]]:
    """Inspect every raster; the grid is `grid` or the first classifier's. Rasters off the grid
    are planned for reprojection or reported, as `inputs.align` says."""
    infos: dict[str, RasterInfo] = {}
    for layer in inputs.layers:
        try:
            infos[layer.name] = inspect_raster(layer.path)
        except RasterError as err:
            problems.add_error(err)
    classifiers = [layer for layer in inputs.by_role(Role.CLASSIFIER) if layer.name in infos]
    if grid is None and classifiers:
        reference = infos[classifiers[0].name]
        problem = reference_problem(reference,
                                    must_be_aligned=inputs.align is Align.REJECT)
        if problem:
            problems.add(problem, source=reference.name, kind=RasterError)
        else:
            grid = TargetGrid(reference.transform.a)
    plans = {}
    for layer in inputs.layers:
        info = infos.get(layer.name)
        if info is None or grid is None:
            continue
        plan = _plan(layer, info, grid, inputs.align, problems)
        if plan is not None:
            plans[layer.name] = plan
    return grid, plans


def _plan(layer: LayerInput, info: RasterInfo, grid: TargetGrid, align: Align,
          problems: InputProblems) -> RasterPlan | None:
    dtype = output_dtype(info)
    if dtype is None:
        problems.add(f"pixel type {info.dtype} is not one GCBM reads", source=info.name,
                     field="dtype", hint="use Byte, (U)Int16, (U)Int32, Float32 or Float64",
                     kind=RasterError)
        return None
    if layer.role is not Role.TEMPERATURE and layer.role is not Role.OTHER and \
            not info.is_integer:
        problems.add(f"pixel type {info.dtype}, but a {layer.role} layer needs an integer type",
                     source=info.name, field="dtype", hint="re-export it with -ot Int16",
                     kind=RasterError)
        return None
    difference = grid_difference(info, grid)
    if difference == "has no CRS" or (difference and align is Align.REJECT):
        problems.add(difference, source=info.name, field="grid", kind=RasterError,
                     hint=None if difference == "has no CRS" else
                     "put it on the first classifier's grid (e.g. gdalwarp -t_srs EPSG:4326 "
                     f"-tr {grid.cell} {grid.cell} -tap), or prepare with align=reproject")
        return None
    nodata = info.nodata
    if nodata is None or nodata != nodata:  # none declared, or NaN (JSON has no NaN)
        nodata = layer.nodata if layer.nodata is not None else default_nodata(dtype)
    return RasterPlan(layer, info, dtype, float(nodata), aligned=difference is None)


# -- scanning the data ---------------------------------------------------------------------

@dataclass
class Scan:
    """What the rasters hold over the study area."""

    tiles: list[Tile] = field(default_factory=list)  # tiles where every classifier has data
    n_pixels: int = 0  # cells where every classifier has data
    classifier_sets: set[tuple[int, ...]] = field(default_factory=set)  # raw value tuples
    values: dict[str, set[int]] = field(default_factory=dict)  # layer -> values (not nodata)
    # spatial-unit layer -> simulated cells where it has no data (GCBM finds no unit there)
    no_unit: dict[str, int] = field(default_factory=dict)
    # the spatial-unit layers' names, and the simulated cells of each tuple of their values
    unit_layers: list[str] = field(default_factory=list)
    unit_values: dict[tuple[int, ...], int] = field(default_factory=dict)


def scan(inputs: ProjectInputs, grid: TargetGrid, plans: dict[str, RasterPlan],
         problems: InputProblems, candidates: list[Tile] | None = None) -> Scan | None:
    """Read the classifier and disturbance layers tile by tile (the first classifier's tiles,
    or `candidates`): the study area, the classifier sets and every layer's values."""
    layers = inputs.by_role(Role.CLASSIFIER)
    if not layers or any(layer.name not in plans for layer in layers):
        return None
    classifiers = [plans[layer.name] for layer in layers]
    disturbances = [plans[layer.name] for layer in inputs.by_role(Role.DISTURBANCE)
                    if layer.name in plans]
    units = [plans[layer.name] for layer in inputs.layers
             if layer.role in SPATIAL_UNIT_ROLES and layer.name in plans]
    tiles = candidates if candidates is not None else tiles_covering(classifiers[0].info)
    result = Scan(values={plan.layer.name: set() for plan in classifiers + disturbances + units},
                  no_unit={plan.layer.name: 0 for plan in units},
                  unit_layers=[plan.layer.name for plan in units])
    try:
        with ExitStack() as stack:
            readers = [(plan.layer.name, stack.enter_context(plan.reader(grid)))
                       for plan in classifiers + disturbances + units]
            n, m = len(classifiers), len(classifiers) + len(disturbances)
            for tile in tiles:
                _scan_tile(tile, readers[:n], readers[n:m], readers[m:], result)
    except RasterError as err:
        problems.add_error(err)
        return None
    return result


def _scan_tile(tile: Tile, classifiers: list[tuple[str, TileReader]],
               disturbances: list[tuple[str, TileReader]], units: list[tuple[str, TileReader]],
               result: Scan) -> None:
    arrays = [reader.read(tile) for _, reader in classifiers]
    valid = [array != reader.nodata for array, (_, reader) in zip(arrays, classifiers, strict=True)]
    simulated = np.logical_and.reduce(valid)
    if not simulated.any():
        return
    result.tiles.append(tile)
    result.n_pixels += int(simulated.sum())
    for array, is_valid, (name, _) in zip(arrays, valid, classifiers, strict=True):
        result.values[name].update(int(v) for v in np.unique(array[is_valid]))
    result.classifier_sets.update(_distinct_rows([array[simulated] for array in arrays]))
    for name, reader in disturbances:
        array = reader.read(tile)
        result.values[name].update(int(v) for v in np.unique(array[array != reader.nodata]))
    columns = []
    for name, reader in units:  # only where GCBM simulates
        array = reader.read(tile)[simulated]
        has_data = array != reader.nodata
        result.values[name].update(int(v) for v in np.unique(array[has_data]))
        result.no_unit[name] += int(has_data.size - has_data.sum())
        columns.append(array.astype(np.int64))
    if columns:
        rows, counts = np.unique(np.stack(columns, axis=1), axis=0, return_counts=True)
        for row, count in zip(rows.tolist(), counts.tolist(), strict=True):
            key = tuple(row)
            result.unit_values[key] = result.unit_values.get(key, 0) + count


def _distinct_rows(columns: list[np.ndarray]) -> set[tuple[int, ...]]:
    """Distinct value tuples across columns, through one int64 key per row (fast on 16M)."""
    uniques, key = [], np.zeros(columns[0].size, dtype=np.int64)
    for column in columns:
        values, inverse = np.unique(column, return_inverse=True)
        uniques.append(values)
        key = key * len(values) + inverse
    rows = set()
    for code in np.unique(key):
        parts = []
        for values in reversed(uniques):
            code, index = divmod(int(code), len(values))
            parts.append(int(values[index]))
        rows.add(tuple(reversed(parts)))
    return rows


# -- checks against the database ------------------------------------------------------------

def spatial_unit(inputs: ProjectInputs, db: InputDatabase, problems: InputProblems) -> int | None:
    """The project's spatial unit id; an unnamed one is taken only when the db has just one.
    None when layers give the spatial units (`check_spatial_unit_layers` checks them)."""
    units = db.spatial_units()
    if inputs.spatial_unit_layers:
        return None
    if inputs.admin_boundary is None and inputs.eco_boundary is None and len(units) == 1:
        _, inputs.admin_boundary, inputs.eco_boundary = units[0]
    if inputs.admin_boundary is None or inputs.eco_boundary is None:
        problems.add(f"{db.name} has {len(units)} spatial units: name the project's with "
                     "admin_boundary and eco_boundary", field="admin_boundary/eco_boundary",
                     hint="e.g. admin_boundary: British Columbia, eco_boundary: Taiga Plains")
        return None
    for unit, admin, eco in units:
        if (admin, eco) == (inputs.admin_boundary, inputs.eco_boundary):
            return unit
    ecos = sorted(eco for _, admin, eco in units if admin == inputs.admin_boundary)
    problems.add(f"no spatial unit for {inputs.admin_boundary} / {inputs.eco_boundary}",
                 source=db.name, field="spatial_unit",
                 hint=f"{inputs.admin_boundary} has {_listing(ecos)}" if ecos else
                 f"admin boundaries: {_listing({admin for _, admin, _ in units})}")
    return None


def check_classifiers(inputs: ProjectInputs, db: InputDatabase, problems: InputProblems) -> None:
    """Layer names are the db's classifiers, and every attribute value is a known value."""
    known = db.classifier_values()
    layers = {layer.name: layer for layer in inputs.by_role(Role.CLASSIFIER)}
    for name, layer in layers.items():
        if name not in known:
            problems.add(f"classifier layer {name!r} is not a classifier of {db.name} "
                         f"({_listing(known)})", source=layer.path.name, field="name",
                         hint="a classifier layer is named after its classifier")
            continue
        for pixel, value in (layer.attributes or {}).items():
            if str(value).lower() not in known[name]:
                problems.add(f"unknown classifier value {value!r} for {name} (pixel value "
                             f"{pixel}); {db.name} knows {_listing(known[name].values())}",
                             source=layer.attributes_source, field=f"{name}.attributes[{pixel!r}]")
    for name, value in inputs.classifier_constants.items():
        if name not in known:
            problems.add(f"classifier {name!r} is not a classifier of {db.name} "
                         f"({_listing(known)})", source="variables.json", field=f"Variables.{name}")
        elif value.lower() not in known[name]:
            problems.add(f"unknown classifier value {value!r} for {name}; {db.name} knows "
                         f"{_listing(known[name].values())}", source="variables.json",
                         field=f"Variables.{name}")
    for name in known:
        if name not in layers and name not in inputs.classifier_constants:
            problems.add(f"classifier {name!r} of {db.name} has no layer; no growth curve "
                         "could match", source=inputs.source, field="layers",
                         hint=f"add a classifier layer named {name!r}")


def events_of(layer: LayerInput) -> list[tuple[str, dict]]:
    """(pixel value, event) for every event of a disturbance layer."""
    out: list[tuple[str, dict]] = []
    for pixel, interpretation in (layer.attributes or {}).items():
        items = interpretation if isinstance(interpretation, list) else [interpretation]
        out.extend((pixel, item) for item in items)
    return out


def check_disturbances(inputs: ProjectInputs, db: InputDatabase, unit: int | None,
                       problems: InputProblems) -> None:
    """Disturbance types exist and have a matrix in the spatial unit; transitions exist."""
    types = db.disturbance_types()
    by_code = {code: name for name, code in types.items()}
    with_matrix = db.types_with_matrix(unit) if unit is not None else None
    transitions = db.transition_ids()
    for layer in inputs.by_role(Role.DISTURBANCE):
        for pixel, event in events_of(layer):
            where = f"{layer.name}.attributes[{pixel!r}]"
            name = event.get("disturbance_type")
            if name is None:
                name = by_code.get(int(event["disturbance_type_id"]))
                if name is None:
                    problems.add(f"unknown disturbance type code {event['disturbance_type_id']}"
                                 f" in {db.name}", source=layer.attributes_source, field=where)
                    continue
            elif name not in types:
                problems.add(f"unknown disturbance type {name!r}: not in {db.name}'s "
                             "disturbance_type table", source=layer.attributes_source,
                             field=f"{where}.disturbance_type")
                continue
            if with_matrix is not None and name not in with_matrix:
                problems.add(f"disturbance type {name!r} has no disturbance matrix for spatial "
                             f"unit {unit} ({inputs.admin_boundary} / {inputs.eco_boundary}) "
                             f"in {db.name}", source=layer.attributes_source,
                             field=f"{where}.disturbance_type",
                             hint="GCBM would skip these events")
            transition = event.get("transition")
            if transition is not None and int(transition) not in transitions:
                problems.add(f"transition {transition} is not in {db.name}'s transition table",
                             source=layer.attributes_source, field=f"{where}.transition")


def check_spatial_unit_layers(inputs: ProjectInputs, db: InputDatabase,
                              problems: InputProblems) -> None:
    """With spatial units from layers: every name in an admin_boundary / eco_boundary layer's
    attribute table, and the part given as a name, is one of the database's spatial units'
    (which combinations occur is checked when the run reads them)."""
    if not inputs.spatial_unit_layers:
        return
    units, db_name = db.spatial_units(), db.name
    known = {"admin_boundary": {admin for _, admin, _ in units},
             "eco_boundary": {eco for _, _, eco in units}}
    for variable in known.keys() - inputs.spatial_unit_layers.keys():  # a name for every pixel
        name = getattr(inputs, variable)
        if name is None:
            problems.add(f"{variable} is given neither by a layer nor as a name",
                         field=variable, kind=MissingInputError,
                         hint=f"e.g. {variable}: {sorted(known[variable])[0]}"
                         if known[variable] else None)
        elif name not in known[variable]:
            problems.add(f"{variable} {name!r} is in no spatial unit of {db_name}",
                         field=variable, hint=f"known: {_listing(known[variable])}")
    sources = {layer.name: layer.attributes_source for layer in inputs.layers}
    for variable, (layer, attributes) in inputs.spatial_unit_layers.items():
        if attributes is None:
            continue  # a missing table is reported with the layer
        source = sources.get(layer) or f"{layer}.json"
        if not isinstance(attributes, dict) or not attributes:
            problems.add(f"{variable} layer {layer!r} has an empty attribute table",
                         source=source, field=f"{layer}.attributes",
                         hint="its pixel values must name the boundaries")
            continue
        for key, name in attributes.items():
            if name not in known[variable]:
                problems.add(f"{variable} {name!r} is in no spatial unit of {db_name}",
                             source=source, field=f"{layer}.attributes[{key!r}]",
                             hint=f"known: {_listing(known[variable])}")


def check_spinup(inputs: ProjectInputs, db: InputDatabase, unit: int | None,
                 problems: InputProblems) -> None:
    """A project's own spinup parameters name disturbance types with a matrix in its unit."""
    if not inputs.spinup_parameters:
        return
    types = db.disturbance_types()
    with_matrix = db.types_with_matrix(unit) if unit is not None else None
    for key in ("historic_disturbance_type", "last_pass_disturbance_type"):
        name = inputs.spinup_parameters[key]
        if name not in types:
            problems.add(f"unknown disturbance type {name!r}: not in {db.name}'s "
                         "disturbance_type table", source="settings",
                         field=f"spinup.parameters.{key}")
        elif with_matrix is not None and name not in with_matrix:
            problems.add(f"disturbance type {name!r} has no disturbance matrix for spatial "
                         f"unit {unit} in {db.name}", source="settings",
                         field=f"spinup.parameters.{key}")


def check_modules(inputs: ProjectInputs, db: InputDatabase | None, standard_items: set[str],
                  problems: InputProblems, *, variables: set[str] | None = None,
                  constants: set[str] | None = None) -> None:
    """The modules' settings against the database: the disturbance types the ordering, the
    growth multiplier series and the output items' flux groups name exist, and the database
    has series when growth multipliers are on without their own; an output item is not named
    like one of GCBM's standard items; a reporting column is one of `variables` (when given:
    a project's own are checked when it is read) or a layer, and not a classifier; the
    listener's and the events' conditions read names a condition can read (with `constants`,
    the constant variables, given)."""
    sections = inputs.sections
    types: list[set[str]] = []  # read once, when a name is to be checked

    def check_type(name: Any, field: str) -> None:
        if db is None:
            return
        if not types:
            types.append({name for (name,) in db.rows("SELECT name FROM disturbance_type")})
        if name not in types[0]:
            problems.add(f"unknown disturbance type {name!r}: not in {db.name}'s "
                         "disturbance_type table", source="settings", field=field)

    order = sections.get("disturbance_order") or {}
    for key in ("user", "default"):
        for number, name in enumerate(order.get(key) or []):
            check_type(name, f"disturbance_order.{key}[{number}]")
    for number, condition in enumerate(order.get("conditions") or []):
        where = f"disturbance_order.conditions[{number}]"
        names = condition.get("disturbance_type")
        for name in names if isinstance(names, list) else [names]:
            check_type(name, f"{where}.disturbance_type")
        if "override_disturbance_type" in condition:
            check_type(condition["override_disturbance_type"],
                       f"{where}.override_disturbance_type")
    if constants is not None:
        _check_condition_names(inputs, order.get("conditions") or [], constants, problems)
    multipliers = sections.get("growth_multipliers") or {}
    if multipliers.get("enabled"):
        series = multipliers.get("series")
        for number, row in enumerate(series or []):
            check_type(row["disturbance_type"],
                       f"growth_multipliers.series[{number}].disturbance_type")
        if series is None and db is not None and not db.has_tables(GROWTH_MULTIPLIER_TABLES):
            problems.add(f"{db.name} has no growth multiplier series "
                         f"({', '.join(GROWTH_MULTIPLIER_TABLES)})", source="settings",
                         field="growth_multipliers.series", hint="give the series here")
    classifiers = {layer.name for layer in inputs.by_role(Role.CLASSIFIER)}
    others = {layer.name for layer in inputs.layers} - classifiers
    for number, name in enumerate((sections.get("reporting") or {}).get("columns") or []):
        where = f"reporting.columns[{number}]"
        if name in classifiers or name == "classifier_set":
            problems.add(f"{name!r} is a classifier: reported already", source="settings",
                         field=where)
        elif variables is not None and name not in variables | others:
            problems.add(f"no variable or layer named {name!r}", source="settings",
                         field=where, hint="e.g. a spatial-unit layer: admin_boundary")
    for number, item in enumerate((sections.get("outputs") or {}).get("items") or []):
        where = f"outputs.items[{number}]"
        if item["data_name"] in standard_items:
            problems.add(f"{item['data_name']!r} is one of GCBM's standard items: name yours "
                         "otherwise", source="settings", field=f"{where}.data_name",
                         hint="switch the standard ones with outputs.geotiff_indicators")
        for group_number, group in enumerate(item.get("flux") or []):
            for type_number, name in enumerate(group.get("disturbance_types") or []):
                check_type(name, f"{where}.flux[{group_number}].disturbance_types[{type_number}]")


# A listener condition's keys that are not names it reads (cbmdisturbancelistener.cpp).
_CONDITION_KEYS = ("disturbance_type", "run_conditions", "override_conditions",
                   "override_disturbance_type")


def _check_condition_names(inputs: ProjectInputs, conditions: list[dict[str, Any]],
                           constants: set[str], problems: InputProblems) -> None:
    """What the engine's reader refuses (project/listener.py), said before a run: a condition
    reads the land unit's state, constants, the spatial unit's variables and classifiers; a
    listener's sub-condition also pools ("A + B") and the disturbance sequence."""
    readable = {*STATE_VARIABLES, *constants, "spatial_unit_id", *SPATIAL_UNIT_ROLES.values(),
                *(layer.name for layer in inputs.by_role(Role.CLASSIFIER))}

    def check(name: str, source: str, field: str, *, pools: bool) -> None:
        if name in readable or (pools and name == "disturbance_sequence") or \
                (pools and all(part.strip() in POOL_BY_NAME for part in name.split("+"))):
            return
        problems.add(f"a condition cannot read {name!r}: no such state variable, constant, "
                     "classifier" + (" or pool" if pools else ""), source=source, field=field)

    for number, condition in enumerate(conditions):
        where = f"disturbance_order.conditions[{number}]"
        for key in condition:
            if key not in _CONDITION_KEYS:
                check(key, "settings", f"{where}.{key}", pools=True)
        for part in ("run_conditions", "override_conditions"):
            for index, sub in enumerate(condition.get(part) or []):
                for key in sub if isinstance(sub, dict) else ():
                    check(key, "settings", f"{where}.{part}[{index}].{key}", pools=True)
    for layer in inputs.by_role(Role.DISTURBANCE):
        for pixel, event in events_of(layer):
            for index, test in enumerate(event.get("conditions") or []):
                check(str(test[0]), layer.attributes_source or layer.name,
                      f"{layer.name}.attributes[{pixel!r}].conditions[{index}]", pools=False)


def check_values(inputs: ProjectInputs, found: Scan, problems: InputProblems) -> None:
    """Every classifier, disturbance and spatial-unit value in the rasters is in its attribute
    table; a spatial-unit layer has data wherever the classifiers have."""
    for name, count in found.no_unit.items():
        if count:
            problems.add(f"{count:,} simulated pixels have no value (nodata): GCBM would find "
                         "no spatial unit for them", source=f"{name}", field="nodata",
                         kind=RasterError)
    for layer in inputs.layers:
        if layer.attributes is None or layer.name not in found.values:
            continue
        missing = found.values[layer.name] - {int(key) for key in layer.attributes}
        if missing:
            effect = ("those pixels would not be simulated" if layer.role is Role.CLASSIFIER
                      else "GCBM would find no spatial unit for those pixels"
                      if layer.role in SPATIAL_UNIT_ROLES
                      else "those pixels' disturbances would be ignored")
            problems.add(f"pixel values {_listing(missing)} are not in its attribute table "
                         f"(from {layer.attributes_source}); {effect}",
                         source=layer.path.name, field="attributes", kind=RasterError)


def check_spatial_unit_pairs(inputs: ProjectInputs, db: InputDatabase, found: Scan,
                             problems: InputProblems) -> None:
    """Every (admin, eco) boundary pair the spatial-unit layers (and the part given as a name)
    make over the simulated cells is one of the database's spatial units. Values without a
    name in their table, and nodata, are reported by `check_values`."""
    if not found.unit_layers:
        return
    tables = {layer.name: layer.attributes or {} for layer in inputs.layers}
    variable_of = {name: variable for variable, (name, _) in inputs.spatial_unit_layers.items()}
    known = {(admin, eco) for _, admin, eco in db.spatial_units()}
    missing: dict[tuple[str, str], int] = {}
    for values, count in found.unit_values.items():
        parts = {"admin_boundary": inputs.admin_boundary, "eco_boundary": inputs.eco_boundary}
        for name, value in zip(found.unit_layers, values, strict=True):
            parts[variable_of.get(name, name)] = tables.get(name, {}).get(str(value))
        admin, eco = parts["admin_boundary"], parts["eco_boundary"]
        if admin is not None and eco is not None and (admin, eco) not in known:
            missing[(admin, eco)] = missing.get((admin, eco), 0) + count
    for (admin, eco), count in sorted(missing.items()):
        problems.add(f"{count:,} simulated pixels are in {admin} / {eco}, which is no spatial "
                     f"unit of {db.name}", source=inputs.source,
                     field="admin_boundary/eco_boundary",
                     hint="GCBM finds no parameters there: fix the layers' tables or values")


def check_growth_curves(inputs: ProjectInputs, db: InputDatabase, found: Scan,
                        problems: InputProblems) -> None:
    """Every classifier set in the rasters has a growth curve by GCBM's rule (gcbm-spec §5.3)."""
    layers = inputs.by_role(Role.CLASSIFIER)
    tables = [layer.attributes for layer in layers]
    if any(table is None for table in tables):
        return
    curves, known = db.growth_curves(), db.classifier_values()
    unmatched = set()
    for raw in found.classifier_sets:
        keys = [str(value) for value in raw]
        if any(key not in (layer.attributes or {})
               for key, layer in zip(keys, layers, strict=True)):
            continue  # reported by check_values
        values = {layer.name: (layer.attributes or {})[key] for key, layer in
                  zip(keys, layers, strict=True)} | inputs.classifier_constants
        if any(str(value).lower() not in known.get(name, {}) for name, value in values.items()):
            continue  # reported by check_classifiers
        if all(match_score(curve, values) <= 0 for curve in curves.values()):
            unmatched.add(", ".join(f"{name}={value}" for name, value in values.items()))
    if unmatched:
        problems.add(f"{len(unmatched)} classifier set(s) in the rasters have no growth curve: "
                     f"{_listing(f'({text})' for text in unmatched)}", source=db.name,
                     field="growth_curve",
                     hint="add yield curves for them (or '?' wildcards) to the database")


def simulation_years(inputs: ProjectInputs, problems: InputProblems,
                     warnings: list[str]) -> tuple[int, int] | None:
    """(first, last) simulated year: the user's, or spanning the disturbance years."""
    years = sorted({int(event["year"]) for layer in inputs.by_role(Role.DISTURBANCE)
                    for _, event in events_of(layer)})
    start = inputs.start_year if inputs.start_year is not None else (years[0] if years else None)
    end = inputs.end_year if inputs.end_year is not None else (years[-1] if years else None)
    if start is None or end is None:
        problems.add("no simulation period: give start_year and end_year (there are no "
                     "disturbance years to span)", field="start_year/end_year",
                     kind=MissingInputError)
        return None
    if end < start:
        problems.add(f"end_year {end} is before start_year {start}", field="end_year")
        return None
    outside = [year for year in years if not start <= year <= end]
    if outside:
        warnings.append(f"disturbance events in {_listing(outside)} fall outside "
                        f"{start}-{end} and will not happen")
    return start, end

