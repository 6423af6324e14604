"""A complete GCBM project rewritten in upstream's upload form, so that everything that edits
inputs (the service's simulations) can hold one form: category folders plus an attributes file
with the project's settings (dates, spatial unit, spinup, growth, outputs, attribute tables)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from flintcloud.errors import InputError
from flintcloud.gcbm.inputs.config import ConfigDocuments
from flintcloud.gcbm.inputs.edit import find_config_dir
from flintcloud.gcbm.inputs.model import Role

FOLDERS = {Role.CLASSIFIER: "classifiers", Role.DISTURBANCE: "disturbances"}  # others: miscellaneous
DATABASE_NAME = "gcbm_input.db"
ATTRIBUTES_NAME = "attributes.json"


def project_to_upload_form(project: str | Path, target: str | Path) -> Path:
    """Write `project`'s rasters, database and settings into `target` in the upload form:
    `classifiers/`, `disturbances/`, `miscellaneous/`, `db/gcbm_input.db`, `attributes.json`."""
    documents = ConfigDocuments.load(find_config_dir(project))
    root = documents.config_dir.parent.resolve()
    settings = documents.settings()
    target = Path(target)
    layers = {}
    for name, layer in settings.layers.items():
        path = _inside(documents.layer_path(name), root, f"layers[{name}].layer_path")
        role = layer.role or Role.OTHER  # a project's layers all have one
        folder = target / FOLDERS.get(role, "miscellaneous")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, folder / f"{name}{path.suffix}")
        entry: dict[str, Any] = {"role": role.value}
        if layer.attributes is not None:
            entry["attributes"] = layer.attributes
        layers[name] = entry
    database = _inside(documents.database_path(), root, "Providers.SQLite.path")
    (target / "db").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(database, target / "db" / DATABASE_NAME)
    description = settings.model_dump(mode="json", exclude={"layers"}, exclude_none=True)
    description["layers"] = layers
    (target / ATTRIBUTES_NAME).write_text(json.dumps(description, indent=1), encoding="utf-8")
    return target


def _inside(path: Path, root: Path, field: str) -> Path:
    if not path.is_relative_to(root) or not path.is_file():
        raise InputError("the file is missing or lies outside the project",
                         source="provider_config.json", field=field)
    return path
