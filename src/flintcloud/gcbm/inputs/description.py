"""The project description file (YAML or JSON), which is also the attributes file.

One schema serves both: a description names every layer's file and role (folder-of-rasters
form); an attributes file for the upload form only adds attributes and settings to layers
found by folder. Its settings are those of `ProjectSettings` (dates, spatial unit, spinup,
growth, outputs). A CSV attributes file holds attribute tables only; a JSON or YAML mapping
of layer (or file) names to tables, as upstream FLINT.Cloud's branches sent, is read as the
`layers`' attributes. See docs/gcbm-inputs.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flintcloud.errors import InputError
from flintcloud.gcbm.inputs.attributes import load_document, read_csv_tables
from flintcloud.gcbm.inputs.config import GrowthSettings, OutputSettings, SpinupSettings
from flintcloud.gcbm.inputs.model import Align, Problems, Role

DESCRIPTION_NAMES = ("project.yaml", "project.yml", "project.json")


class LayerEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: str | None = None  # relative to the description file
    role: Role | None = None
    attributes: dict[int | str, Any] | str | None = None  # a table, or a sidecar file's path
    year: int | None = Field(None, ge=1, le=9999)  # default year of a disturbance layer


class Description(BaseModel):
    model_config = ConfigDict(extra="forbid")

    database: str | None = None
    start_year: int | None = Field(None, ge=1, le=9998)
    end_year: int | None = Field(None, ge=1, le=9998)
    admin_boundary: str | None = None
    eco_boundary: str | None = None
    align: Align | None = None
    # None: the templates' (GCBM's standard configuration); see ProjectSettings.
    spinup: SpinupSettings | None = None
    growth: GrowthSettings | None = None
    outputs: OutputSettings | None = None
    layers: dict[str, LayerEntry] = Field(default_factory=dict)


def read_description(path: Path, problems: Problems) -> Description | None:
    """Read a description or attributes file; its problems (with field paths) go to `problems`."""
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
    if not set(map(str, document)) & set(Description.model_fields):
        document = {"layers": {key: {"attributes": table} for key, table in document.items()}}
    try:
        return Description.model_validate(document)
    except ValidationError as err:
        for error in err.errors():
            location = ".".join(str(part) for part in error["loc"])
            problems.add(error["msg"], source=path.name, field=location or None)
        return None


def _from_csv(path: Path) -> Description:
    tables = read_csv_tables(path)
    if None in tables:
        raise InputError("rows without a layer: an attributes CSV needs a 'layer' column",
                         source=path.name, field="layer")
    return Description(layers={name: LayerEntry(attributes=table)
                               for name, table in tables.items()})


def merge(base: Description, extra: Description) -> Description:
    """`extra`'s settings and layer entries over `base`'s (an attributes file over a
    description): what `extra` sets wins, what it leaves out is kept."""
    settings = {**base.model_dump(exclude={"layers"}),
                **extra.model_dump(exclude={"layers"}, exclude_none=True)}
    layers = dict(base.layers)
    for name, entry in extra.layers.items():
        if name in layers:
            layers[name] = layers[name].model_copy(
                update=entry.model_dump(exclude_none=True))
        else:
            layers[name] = entry
    return Description(**settings, layers=layers)
