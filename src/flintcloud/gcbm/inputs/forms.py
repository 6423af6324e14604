"""The accepted input forms, each read into `ProjectInputs`:

- upload: upstream FLINT.Cloud's folders `classifiers/`, `disturbances/`, `miscellaneous/`, `db/`
  (roles from the folders), plus an optional attributes file;
- description: rasters anywhere under a folder plus `project.yaml|yml|json` naming each layer's
  file and role;
- project: a complete GCBM project (found by its `gcbm_config.cfg`; see `project_inputs`).
"""

from __future__ import annotations

from pathlib import Path

from flintcloud.errors import InputError, InputProblems, MissingInputError
from flintcloud.gcbm.inputs.attributes import (
    layer_json,
    normalise,
    raster_attribute_table,
    read_sidecar,
    year_from_name,
)
from flintcloud.gcbm.inputs.model import (
    LAYER_VARIABLES,
    SPATIAL_UNIT_ROLES,
    LayerInput,
    ProjectInputs,
    Role,
    is_layer_name,
    layer_name_from_file,
)
from flintcloud.gcbm.inputs.settings import (
    GcbmSettings,
    LayerSettings,
    merge,
    read_settings_file,
)
from flintcloud.gcbm.project.modules import SETTINGS_KEYS

RASTER_SUFFIXES = (".tif", ".tiff")
UPLOAD_FOLDERS = {"classifiers": Role.CLASSIFIER, "disturbances": Role.DISTURBANCE,
                  "miscellaneous": None}
DESCRIPTION_NAMES = ("project.yaml", "project.yml", "project.json")
# An upload may carry its attributes file at its top level, under one of these names.
ATTRIBUTES_NAMES = ("attributes.yaml", "attributes.yml", "attributes.json", "attributes.csv")
_AGE_NAMES = ("initial_age", "age")
_TEMPERATURE_NAMES = ("mean_annual_temperature", "temperature", "mat")


def find_root(path: Path) -> Path:
    """Descend through folders that hold nothing but one folder (a zip's top-level folder)."""
    while True:
        entries = [entry for entry in path.iterdir() if not entry.name.startswith(".")]
        if len(entries) != 1 or not entries[0].is_dir():
            return path
        path = entries[0]


def detect_form(root: Path) -> str | None:
    """"project", "description", "upload", or None when the folder is none of them."""
    if any(root.glob("**/gcbm_config.cfg")):
        return "project"
    if any((root / name).is_file() for name in DESCRIPTION_NAMES):
        return "description"
    if (root / "classifiers").is_dir():
        return "upload"
    return None


def read_inputs(root: Path, form: str, attributes: Path | None,
                problems: InputProblems) -> ProjectInputs:
    """The inputs of an upload or description form; `attributes` is the user's attributes
    (or extra description) file."""
    if attributes is None and form == "upload":
        attributes = next((root / name for name in ATTRIBUTES_NAMES if (root / name).is_file()),
                          None)
    extra = read_settings_file(attributes, problems) if attributes is not None else None
    if form == "description":
        path = next(root / name for name in DESCRIPTION_NAMES if (root / name).is_file())
        base = read_settings_file(path, problems) or GcbmSettings()
        description = merge(base, extra) if extra is not None else base
        inputs = _from_description(root, path.name, description, problems,
                                   explicit=base.layers,
                                   extra_source=attributes.name if attributes else "attributes")
    else:
        inputs = _from_upload(root, extra or GcbmSettings(),
                              attributes.name if attributes else "upload", problems)
    _spatial_unit_layers(inputs, problems)
    return inputs


def _spatial_unit_layers(inputs: ProjectInputs, problems: InputProblems) -> None:
    """admin_boundary / eco_boundary given per pixel by a layer (each at most once, and not
    also as a name for every pixel)."""
    for role, variable in SPATIAL_UNIT_ROLES.items():
        layers = inputs.by_role(role)
        if len(layers) > 1:
            problems.add(f"{len(layers)} {role} layers: GCBM reads one",
                         source=inputs.source, field="layers")
        if layers and getattr(inputs, variable) is not None:
            problems.add(f"{variable} is given both by layer {layers[0].path.name} and as "
                         f"{getattr(inputs, variable)!r}", source=inputs.source, field=variable,
                         hint="leave the setting out: the layer gives it per pixel")
        if layers:
            inputs.spatial_unit_layers[variable] = (layers[0].name, layers[0].attributes)


def _from_upload(root: Path, description: GcbmSettings, source: str,
                 problems: InputProblems) -> ProjectInputs:
    inputs = _settings(description, root.name)
    entries = dict(description.layers)
    for folder, folder_role in UPLOAD_FOLDERS.items():
        directory = root / folder
        if not directory.is_dir():
            continue
        for path in sorted(directory.iterdir()):
            if path.suffix.lower() not in RASTER_SUFFIXES:
                continue
            name = layer_name_from_file(path)
            key, entry = _entry_for(entries, name, path)
            role = folder_role or (entry.role if entry and entry.role else _misc_role(name))
            if entry is not None and entry.role is not None and entry.role is not role:
                problems.add(f"role {entry.role} contradicts the folder {folder}/",
                             source=source, field=f"layers.{key}.role")
            if entry is not None and entry.file is not None:
                problems.add("'file' is only for a project description; the upload's folders "
                             "name the files", source=source, field=f"layers.{key}.file")
            inputs.layers.append(_layer(name, role, path, entry, root, source, problems))
    for key in entries:
        problems.add(f"layer {key!r} matches no raster in classifiers/, disturbances/ or "
                     "miscellaneous/", source=source, field=f"layers.{key}",
                     hint="keys are layer names: file names without the extension and '_moja'")
    databases = sorted(p for p in (root / "db").glob("*")
                       if p.is_file() and not p.name.startswith(".")) \
        if (root / "db").is_dir() else []
    if description.database is not None:
        inputs.database = resolve_inside(root, description.database, source, "database", problems)
    elif len(databases) == 1:
        inputs.database = databases[0]
    else:
        problems.add("expected exactly one database file in db/, found "
                     f"{len(databases) or 'none'}", source=f"{root.name}/db",
                     hint="upload gcbm_input.db (build one with `flintcloud gcbm build-db`)",
                     kind=InputError if databases else MissingInputError)
    return inputs


def _from_description(root: Path, source: str, description: GcbmSettings, problems: InputProblems,
                      *, explicit: dict[str, LayerSettings], extra_source: str) -> ProjectInputs:
    inputs = _settings(description, root.name)
    for key, entry in description.layers.items():
        field = f"layers.{key}"
        if key not in explicit:
            problems.add(f"layer {key!r} is not in {source}", source=extra_source,
                         field=field)
            continue
        if not is_layer_name(key):
            problems.add(f"layer name {key!r}: use letters, digits, '_', '-' and spaces "
                         "(at most 100)", source=source, field=field)
            continue
        if entry.file is None or entry.role is None:
            problems.add("each layer needs a 'file' and a 'role' (classifier, disturbance, "
                         "age, temperature or other)", source=source, field=field)
            continue
        path = resolve_inside(root, entry.file, source, f"{field}.file", problems)
        if path is not None:
            inputs.layers.append(_layer(key, entry.role, path, entry, root, source, problems))
    if description.database is None:
        problems.add("'database' (the gcbm_input.db file) is required", source=source,
                     field="database", kind=MissingInputError)
    else:
        inputs.database = resolve_inside(root, description.database, source, "database", problems)
    return inputs


def _settings(description: GcbmSettings, source: str) -> ProjectInputs:
    inputs = ProjectInputs(source=source, start_year=description.start_year,
                           end_year=description.end_year,
                           admin_boundary=description.admin_boundary,
                           eco_boundary=description.eco_boundary)
    if description.align is not None:
        inputs.align = description.align
    inputs.sections = description.model_dump(include=set(SETTINGS_KEYS), exclude_none=True,
                                             by_alias=True)
    if description.spinup is not None and description.spinup.parameters is not None:
        inputs.spinup_parameters = description.spinup.parameters.model_dump()
    return inputs


def _entry_for(entries: dict[str, LayerSettings], name: str,
               path: Path) -> tuple[str | None, LayerSettings | None]:
    """The attributes-file entry of a raster, by layer name or file stem (then consumed)."""
    for key in (name, path.name.split(".")[0], path.name):
        if key in entries:
            return key, entries.pop(key)
    return None, None


def misc_role(name: str) -> Role:
    """A miscellaneous raster's role when the settings give none: from its layer name."""
    return _misc_role(name)


def _misc_role(name: str) -> Role:
    lowered = name.lower()
    if lowered in _AGE_NAMES:
        return Role.AGE
    if lowered in _TEMPERATURE_NAMES:
        return Role.TEMPERATURE
    if lowered in SPATIAL_UNIT_ROLES.values():
        return Role(lowered)
    return Role.OTHER


def resolve_inside(root: Path, relative: str, source: str, field: str,
            problems: InputProblems) -> Path | None:
    """A user-given relative path, only if it stays inside `root` and exists."""
    candidate = Path(relative)
    if candidate.is_absolute() or "\\" in relative:
        problems.add(f"{relative!r} must be a relative path with '/' separators", source=source,
                     field=field)
        return None
    path = (root / candidate).resolve()
    if not path.is_relative_to(root.resolve()):
        problems.add(f"{relative!r} points outside the inputs", source=source, field=field)
        return None
    if not path.is_file():
        problems.add(f"file {relative!r} not found", source=source, field=field)
        return None
    return path


def _layer(name: str, role: Role, path: Path, entry: LayerSettings | None, root: Path,
           source: str, problems: InputProblems) -> LayerInput:
    """A layer with its attributes from the first source that has them: the attributes or
    description file, then a GCBM layer JSON next to the raster, then a GDAL attribute table."""
    layer = LayerInput(LAYER_VARIABLES.get(role, name), role, path)
    if role is Role.DISTURBANCE:
        layer.year = entry.year if entry and entry.year else year_from_name(path.name)
    try:
        json_attributes, layer.nodata = layer_json(path)
        if not role.needs_attributes:
            return layer
        raw, origin = None, None
        if entry is not None and isinstance(entry.attributes, str):
            sidecar = resolve_inside(root, entry.attributes, source,
                                     f"layers.{name}.attributes", problems)
            if sidecar is None:
                return layer
            raw, origin = read_sidecar(sidecar), sidecar.name
        elif entry is not None and entry.attributes is not None:
            raw, origin = entry.attributes, source
        elif json_attributes is not None:
            raw, origin = json_attributes, path.name.split(".")[0] + ".json"
        else:
            raw, origin = raster_attribute_table(path), path.name + ".aux.xml"
    except InputError as err:
        problems.add_error(err)
        return layer
    if raw is None:
        problems.add(f"{role} layer {name!r} has no attribute table", source=path.name,
                     field="attributes",
                     hint="give it in the attributes file, a layer JSON or a raster "
                          "attribute table (docs/gcbm-inputs.md); it is never guessed",
                     kind=MissingInputError)
        return layer
    field = f"layers.{name}.attributes" if origin == source else "attributes"
    layer.attributes = normalise(raw, role, source=origin, field=field,
                                 default_year=layer.year, problems=problems)
    layer.attributes_source = origin
    return layer
