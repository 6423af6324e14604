"""What a set of GCBM inputs is, once its form (upload folders, description file, project) has
been read: layers with a role and maybe attributes, a database, dates and a spatial unit."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Role(StrEnum):
    CLASSIFIER = "classifier"
    DISTURBANCE = "disturbance"
    AGE = "age"
    TEMPERATURE = "temperature"
    # the spatial unit's parts per pixel (its table: pixel value -> boundary name)
    ADMIN_BOUNDARY = "admin_boundary"
    ECO_BOUNDARY = "eco_boundary"
    OTHER = "other"

    @property
    def is_categorical(self) -> bool:
        """Categorical layers are resampled by nearest neighbour, never interpolated."""
        return self is not Role.TEMPERATURE

    @property
    def needs_attributes(self) -> bool:
        return self in (Role.CLASSIFIER, Role.DISTURBANCE, Role.ADMIN_BOUNDARY,
                        Role.ECO_BOUNDARY)


class Align(StrEnum):
    """What to do with a raster that is not on the reference grid (docs/gcbm-inputs.md)."""

    REJECT = "reject"
    REPROJECT = "reproject"


# GCBM reads these two layers through variables of these exact names (gcbm-spec §1.5).
ROLE_LAYER_NAMES = {Role.AGE: "initial_age", Role.TEMPERATURE: "mean_annual_temperature"}
# A spatial unit given per pixel: each part at most once, as a layer named after its variable
# (the other part, or both, may be a name for every pixel: the settings' admin_boundary ...).
SPATIAL_UNIT_ROLES = {Role.ADMIN_BOUNDARY: "admin_boundary", Role.ECO_BOUNDARY: "eco_boundary"}
LAYER_VARIABLES = {**ROLE_LAYER_NAMES, **SPATIAL_UNIT_ROLES}  # roles whose layer is a variable

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ -]{0,99}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_ -]+")


def is_layer_name(name: str) -> bool:
    """Layer names become file names and GCBM variable names: letters, digits, `_`, `-`, space."""
    return bool(_NAME.match(name)) and name == name.strip()


def layer_name_from_file(path: Path) -> str:
    """A layer's name from its file: the stem without upstream's `_moja` suffix, with anything
    but letters, digits, `_`, `-` and spaces replaced by `_`."""
    stem = path.name.split(".")[0]
    if stem.lower().endswith("_moja"):
        stem = stem[: -len("_moja")]
    name = _UNSAFE.sub("_", stem).strip(" _-")[:100]
    return name if name and is_layer_name(name) else f"layer_{name}"[:100]


@dataclass
class LayerInput:
    """One raster of the inputs and what it means to GCBM."""

    name: str  # the GCBM layer and variable name
    role: Role
    path: Path
    attributes: dict[str, Any] | None = None  # pixel value (decimal string) -> interpretation
    attributes_source: str | None = None  # where the attributes came from, for messages
    year: int | None = None  # default year of a disturbance layer's events
    nodata: float | None = None  # from a GCBM layer JSON, when the raster declares none


@dataclass
class ProjectInputs:
    """Everything `prepare_project` needs, in any of the accepted forms."""

    source: str  # what the user gave, for messages
    layers: list[LayerInput] = field(default_factory=list)
    database: Path | None = None
    start_year: int | None = None
    end_year: int | None = None  # the last simulated year (inclusive)
    admin_boundary: str | None = None
    eco_boundary: str | None = None
    # admin_boundary / eco_boundary given per pixel: variable -> (layer, its attribute table)
    spatial_unit_layers: dict[str, tuple[str, Any]] = field(
        default_factory=dict)
    # initial_age / mean_annual_temperature given as a number for every pixel (no layer)
    constants: dict[str, float] = field(default_factory=dict)
    # classifiers given as one value for every pixel (a complete project's constant variable)
    classifier_constants: dict[str, str] = field(default_factory=dict)
    align: Align = Align.REJECT
    spinup_parameters: dict[str, Any] | None = None  # a project's own, instead of the db's
    sections: dict[str, Any] = field(default_factory=dict)  # the modules' settings (SETTINGS_KEYS)

    def by_role(self, role: Role) -> list[LayerInput]:
        return [layer for layer in self.layers if layer.role is role]
