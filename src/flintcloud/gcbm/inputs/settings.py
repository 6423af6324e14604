"""GCBM settings, declared once: `GcbmSettings` is what an attributes file, a project
description, the service's simulation settings and a prepared project's configuration say
(dates, spatial unit, the modules' settings (spinup, growth, growth multipliers, disturbance
order, outputs: declared with their modules in gcbm/project/modules.py), and per layer its file,
role and attribute table).

A settings document gives only what it sets; what it leaves out (None) comes from the inputs
(dates: the disturbance years) or GCBM's templates (spinup, growth, outputs). Read from a
project's configuration (`ConfigDocuments.settings`), every field is filled. A CSV attributes
file holds attribute tables only; a JSON or YAML mapping of layer (or file) names to tables, as
upstream FLINT.Cloud's branches sent, is read as the `layers`' attributes. See
docs/gcbm-inputs.md §3.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flintcloud.errors import InputError, InputProblems
from flintcloud.gcbm.inputs.attributes import load_document, read_csv_tables
from flintcloud.gcbm.inputs.model import Align, Role, layer_name_from_file
from flintcloud.gcbm.project.modules import (
    SETTINGS_KEYS,
    DisturbanceOrderSettings,
    GrowthMultiplierSettings,
    GrowthSettings,
    OutputItem,
    OutputSettings,
    ReportingSettings,
    SpinupParameters,
    SpinupSettings,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LayerSettings(_Strict):
    """One layer: its file and role (a project description names them; an upload's folders
    and a project's configuration say them), and its attribute table."""

    file: str | None = None  # relative to the description file
    role: Role | None = None
    attributes: dict[int | str, Any] | str | None = None  # a table, or a sidecar file's path
    year: int | None = Field(None, ge=1, le=9999)  # default year of a disturbance layer


class GcbmSettings(_Strict):
    """Every setting of a set of GCBM inputs. `end_year` is the last simulated year."""

    database: str | None = None  # a description's database file, relative to it
    start_year: int | None = Field(None, ge=1, le=9998)
    end_year: int | None = Field(None, ge=1, le=9998)
    admin_boundary: str | None = None
    eco_boundary: str | None = None
    align: Align | None = None
    # None: the templates' (GCBM's standard configuration).
    spinup: SpinupSettings | None = None
    growth: GrowthSettings | None = None
    outputs: OutputSettings | None = None
    # The optional modules' settings (project/modules.py declares which module owns which);
    # None: the module is off (growth multipliers) or the layers' order applies.
    growth_multipliers: GrowthMultiplierSettings | None = None
    disturbance_order: DisturbanceOrderSettings | None = None
    reporting: ReportingSettings | None = None  # None: by classifier set only
    layers: dict[str, LayerSettings] = Field(default_factory=dict)
    # Years out of order are not refused here: a simulation's stored settings may hold them
    # until they are fixed (they stop a run, by end_year: `checks`). `check_period` says so.


# Not settings of a prepared project: they say how to read inputs into one.
INPUT_ONLY = ("database", "align")
INPUT_ONLY_LAYER = ("file", "year")

__all__ = ["INPUT_ONLY", "INPUT_ONLY_LAYER", "DisturbanceOrderSettings", "GcbmSettings",
           "GrowthMultiplierSettings", "GrowthSettings", "LayerSettings", "OutputItem",
           "OutputSettings", "ReportingSettings", "SpinupParameters", "SpinupSettings", "by_layer_name",
           "check_period", "from_former_names", "merge", "merge_patch", "parse_settings",
           "read_settings_file", "validate_settings"]


def validate_settings(document: Any, problems: InputProblems, *,
                      source: str) -> GcbmSettings | None:
    """`document` as settings, or None after adding a problem per wrong field to `problems`."""
    try:
        return GcbmSettings.model_validate(document)
    except ValidationError as err:
        for error in err.errors():
            problems.add(error["msg"], source=source,
                         field=".".join(str(part) for part in error["loc"]) or None)
        return None


def check_period(settings: GcbmSettings, problems: InputProblems, *, source: str) -> None:
    """A problem of `end_year` in `problems` when the settings' period ends before it starts."""
    start, end = settings.start_year, settings.end_year
    if start is not None and end is not None and end < start:
        problems.add(f"end_year {end} is before start_year {start}", source=source,
                     field="end_year")


def parse_settings(document: Any, *, source: str) -> GcbmSettings:
    """`document` as settings, or InputProblems naming each wrong field."""
    problems = InputProblems()
    settings = validate_settings(document, problems, source=source)
    if settings is None:
        raise InputProblems(problems.problems)
    return settings


def read_settings_file(path: Path, problems: InputProblems) -> GcbmSettings | None:
    """Read a description or attributes file (JSON, YAML or CSV); its problems (with field
    paths) go to `problems`."""
    try:
        if path.suffix.lower() == ".csv":
            return _from_csv(path)
        document = load_document(path)
    except InputError as err:
        problems.add_error(err)
        return None
    if not isinstance(document, dict):
        problems.add("the top level must be a mapping (layers, dates, database, ...)",
                     source=path.name)
        return None
    if not set(map(str, document)) & set(GcbmSettings.model_fields):
        document = {"layers": {key: {"attributes": table} for key, table in document.items()}}
    return validate_settings(document, problems, source=path.name)


def _from_csv(path: Path) -> GcbmSettings:
    tables = read_csv_tables(path)
    if None in tables:
        raise InputError("rows without a layer: an attributes CSV needs a 'layer' column",
                         source=path.name, field="layer")
    return GcbmSettings(layers={str(name): LayerSettings(attributes=table)
                                for name, table in tables.items()})


def merge(base: GcbmSettings, extra: GcbmSettings) -> GcbmSettings:
    """`extra`'s settings and layer entries over `base`'s (an attributes file over a
    description or over stored settings): what `extra` sets wins, what it leaves out is kept;
    a layer's entry is merged key by key (its attribute table is replaced as a whole).
    InputProblems when `extra`'s years and `base`'s are out of order."""
    merged = base.model_dump(exclude_unset=True)
    given = extra.model_dump(exclude_unset=True)
    layers = dict(merged.get("layers", {}))
    for name, entry in given.pop("layers", {}).items():
        layers[name] = {**layers.get(name, {}), **entry}
    settings = parse_settings({**merged, **given, "layers": layers}, source="settings")
    if given.keys() & {"start_year", "end_year"}:
        problems = InputProblems()
        check_period(settings, problems, source="settings")
        problems.raise_if_any()
    return settings


def by_layer_name(document: dict[str, Any]) -> dict[str, Any]:
    """A settings document (or patch) with its layers keyed by layer name: a raster's file
    name or stem given as a key (`Classifier1_moja.tiff`) becomes its layer's name
    (`Classifier1`)."""
    layers = document.get("layers")
    if not isinstance(layers, dict):
        return document
    return {**document, "layers": {layer_name_from_file(Path(str(key))): entry
                                   for key, entry in layers.items()}}


def merge_patch(target: Any, patch: Any) -> Any:
    """JSON merge patch (RFC 7396): `patch` over `target`; a None removes its key."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def from_former_names(patch: dict[str, Any]) -> dict[str, Any]:
    """The configuration's former fields as settings: `start_date`/`end_date` (1 January; the
    end is exclusive) as `start_year`/`end_year`, `attributes` as the layers' attributes,
    `variables.admin_boundary`/`eco_boundary` as themselves."""
    patch, problems = dict(patch), InputProblems()
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
        problems.add("module settings are the settings "
                     f"{', '.join(SETTINGS_KEYS)} (GET /simulations/modules)",
                     field="modules", hint="see docs/service.md")
    problems.raise_if_any()
    return patch


def _first_of_january(value: Any) -> int | None:
    try:
        day = date.fromisoformat(str(value).replace("/", "-"))
    except ValueError:
        return None
    return day.year if (day.month, day.day) == (1, 1) else None
