"""Read and edit a prepared project's settings: `get_config` and `update_config`, the
functions the REST service exposes. An update is validated in full (types, then the database
and the rasters) before any file changes; errors name each field."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flintcloud.errors import ConfigError, InputProblems, NotFoundError
from flintcloud.gcbm.inputs.config import ConfigDocuments
from flintcloud.gcbm.inputs.model import layer_name_from_file
from flintcloud.gcbm.inputs.settings import (
    INPUT_ONLY,
    INPUT_ONLY_LAYER,
    GcbmSettings,
    check_period,
    validate_settings,
)
from flintcloud.gcbm.inputs.validation import check_project

# Replaced as a whole by an update, not merged key by key: an attribute table or a list
# given in full is the new value.
_REPLACED = {"attributes"}


def find_config_dir(project: str | Path) -> Path:
    """The config folder of a project given as its root or its config folder."""
    path = Path(project)
    for candidate in (path, path / "config"):
        if (candidate / "gcbm_config.cfg").is_file():
            return candidate
    raise ConfigError("gcbm_config.cfg not found", source=str(path),
                      hint="give a prepared project's folder or its config/ folder")


def get_config(project: str | Path) -> GcbmSettings:
    """The project's editable settings (dates, spatial unit, spinup, growth, outputs, layer
    attributes)."""
    return ConfigDocuments.load(find_config_dir(project)).settings()


def config_document(project: Path, name: str) -> dict[str, Any]:
    """One JSON file of a prepared project by upstream's getConfig name: a config file's stem
    (`localdomain`), a layer (`Classifier1`) or an uploaded raster's stem (`Classifier1_moja`).
    Names are looked up, never used as paths."""
    documents = {path.stem: path for folder in ("config", "layers/tiled")
                 for path in sorted((project / folder).glob("*.json"))}
    key = name if name in documents else layer_name_from_file(Path(name))
    if key not in documents:
        raise NotFoundError(f"no configuration file {name!r}", field="file_name",
                            hint=f"files: {', '.join(sorted(documents))}")
    document: dict[str, Any] = json.loads(documents[key].read_text(encoding="utf-8"))
    return document


def config_schema() -> dict:
    """JSON Schema of the settings, for API documentation and clients."""
    return GcbmSettings.model_json_schema()


def update_config(project: str | Path, changes: Mapping[str, Any]) -> GcbmSettings:
    """Apply `changes` (a partial settings object, e.g. `{"end_year": 2030, "spinup":
    {"minimum_rotation": 20}}`) and return the new settings, or raise InputProblems with every
    problem, each naming its field (`spinup.minimum_rotation`, `layers.X.attributes['3']`)."""
    config_dir = find_config_dir(project)
    documents = ConfigDocuments.load(config_dir)
    settings = merge_settings(documents, changes, config_dir.parent.name)
    checked = check_project(config_dir, settings)
    for layer in checked.inputs.layers:  # normalised: string keys, integer years
        settings.layers[layer.name] = settings.layers[layer.name].model_copy(
            update={"attributes": layer.attributes})
    documents.apply(settings)
    documents.save()
    return documents.settings()


def check_changes(project: str | Path, changes: Mapping[str, Any]) -> None:
    """InputProblems for what is wrong with `changes` to the project's settings by themselves
    (types, ranges, layers, indicators), without reading its database or rasters."""
    config_dir = find_config_dir(project)
    merge_settings(ConfigDocuments.load(config_dir), changes, config_dir.parent.name)


def merge_settings(documents: ConfigDocuments, changes: Mapping[str, Any],
                   source: str) -> GcbmSettings:
    """The documents' settings with `changes` merged in, checked for types, ranges, layers and
    indicators (not yet against the database and rasters: see `check_project`)."""
    current = documents.settings()
    problems = InputProblems()
    merged = _merged(current.model_dump(mode="json"), dict(changes), "")
    _check_edits(current, merged, documents, problems)
    settings = validate_settings(merged, problems, source="settings")
    if settings is not None:
        check_period(settings, problems, source="settings")
    problems.raise_if_any(source)
    assert settings is not None  # no problem: valid
    return settings


def _merged(current: Any, change: Any, path: str) -> Any:
    if not (isinstance(current, dict) and isinstance(change, Mapping)) or \
            path.rsplit(".", 1)[-1] in _REPLACED:
        return change
    out = dict(current)
    for key, value in change.items():
        out[key] = _merged(current.get(key), value, f"{path}.{key}".lstrip(".")) \
            if key in current else value
    return out


def _check_edits(current: GcbmSettings, merged: dict, documents: ConfigDocuments,
                 problems: InputProblems) -> None:
    """What the settings' types cannot say: a project has its years, its layers exist and
    keep their roles, indicators are the project's; settings that say how to read inputs
    (`database`, `align`, a layer's `file` and `year`) are not a project's."""
    for key in ("start_year", "end_year"):
        if merged.get(key) is None:
            problems.add("a project needs it", source="settings", field=key)
    for key in INPUT_ONLY:
        if merged.get(key) is not None:
            problems.add("not a setting of a prepared project", source="settings", field=key)
    layers = merged.get("layers")
    for name, layer in (layers.items() if isinstance(layers, dict) else ()):
        if name not in current.layers:
            problems.add(f"no layer {name!r} in this project", source="settings",
                         field=f"layers.{name}", hint="layers are added by preparing again")
        elif isinstance(layer, dict) and layer.get("role") != current.layers[name].role:
            problems.add("a layer's role cannot be changed", source="settings",
                         field=f"layers.{name}.role")
        for key in INPUT_ONLY_LAYER:
            if isinstance(layer, dict) and layer.get(key) is not None:
                problems.add("not a setting of a prepared project", source="settings",
                             field=f"layers.{name}.{key}")
    known = documents.indicator_names()
    indicators = (merged.get("outputs") or {}).get("geotiff_indicators", [])
    for name in indicators if isinstance(indicators, list) else ():
        if name not in known:
            problems.add(f"unknown indicator {name!r}; known: {', '.join(known)}",
                         source="settings", field="outputs.geotiff_indicators")
