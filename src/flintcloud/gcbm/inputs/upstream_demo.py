"""Upstream FLINT.Cloud's GCBM demo, recognised by content: its tables, period and spatial unit.

A raster cannot say which pixel value is which classifier value or disturbance; upstream's
service hard-coded its demo's tables (`rest_api_gcbm`), so its clients upload the demo's rasters
without any. Here tables are never guessed, but the demo's files are known exactly: when an
upload folder's classifier or disturbance raster is byte for byte one of the demo's (sha256)
and its layer has no table, the demo's table is used; when every such raster and the database
are the demo's, its period (2010-2020) and spatial unit (British Columbia / Taiga Plains) fill
the settings left out. Every use is reported as a note (the service writes them to the job log).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from flintcloud.gcbm.inputs.forms import RASTER_SUFFIXES
from flintcloud.gcbm.inputs.model import layer_name_from_file
from flintcloud.gcbm.inputs.settings import GcbmSettings, parse_settings

_MPB_SEVERE = "Mountain pine beetle — Very severe impact"
_MPB_LOW = "Mountain pine beetle — Low impact"


def _events(year: int, *types: str) -> dict[str, dict[str, Any]]:
    return {str(value): {"year": year, "disturbance_type": kind, "transition": 1}
            for value, kind in enumerate(types, start=1)}


# The demo's layers (upstream's `GCBM_New_Demo_Run`, its `layers/tiled/*.json`): sha256 of each
# raster as upstream ships it -> (layer name, size in bytes, table).
DEMO_RASTERS: dict[str, tuple[str, int, dict[str, Any]]] = {
    "3be8dc1d3f6051e99d0c4559d282a182eefd2fcd6fb929bdd4a1b8e85b513215": (
        "Classifier1", 26867,
        {"1": "TA", "2": "BP", "3": "BS", "4": "JP", "5": "WS", "6": "WB", "7": "BF", "8": "GA"}),
    "0e0184ec1cb12ddc2a6e870ea2568b42e798214cdd02f002a2088a14ffb0191f": (
        "Classifier2", 26750, {"1": "5", "2": "6", "3": "7", "4": "8"}),
    "a06c16e81d9fe6bfbc33aac0160927a17d4a6f807f1a8666b6f1cacadd446982": (
        "disturbances_2011", 26412, _events(2011, "Wildfire")),
    "d3e5687f424c4e5a7ad6d3a4031f662a5e6ac5a64a9266adce5dc0ed0ca52e1a": (
        "disturbances_2012", 26429, _events(2012, "Wildfire")),
    "c1780b3631d6cb2f4137394017b4299fe6988b4a1d5b4bc8f89aef9cd5a339f2": (
        "disturbances_2013", 26414, _events(2013, _MPB_SEVERE, "Wildfire")),
    "f0c9c0f5d00ce03b05f409bba8c44953a3b1c835cec890b912eb0a1dd21d262b": (
        "disturbances_2014", 26302, _events(2014, _MPB_SEVERE)),
    "a64f74e532968f55bf041a2008323b47386abcc24458ebccb0efa4d6e03b6f58": (
        "disturbances_2015", 26331, _events(2015, "Wildfire")),
    "ea926c5c8fcd4995dd801f1f9f3d98083757af3850cd055a9ac2a674dd7cf1dd": (
        "disturbances_2016", 26267, _events(2016, "Wildfire")),
    "578d5401d7b7ff7848d43f2d173ebeab79a821a20282394b176bec296427c72b": (
        "disturbances_2018", 26282, _events(2018, _MPB_LOW)),
}
DEMO_DATABASE = ("c633aea8c1347f8a42507fc7324dfbde70b03ea79e02fb4a428d5f97b605d0b8", 1482752)
# Upstream's templates: 2010/01/01 to 2021/01/01 (exclusive), the demo's spatial unit.
DEMO_SETTINGS = {"start_year": 2010, "end_year": 2020, "admin_boundary": "British Columbia",
                 "eco_boundary": "Taiga Plains"}
_SIZES = {size for _, size, _ in DEMO_RASTERS.values()}
_TABLE_FOLDERS = ("classifiers", "disturbances")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _demo_layer(path: Path) -> tuple[str, int, dict[str, Any]] | None:
    """The demo layer this file is, byte for byte (only files of a demo size are hashed)."""
    if path.stat().st_size not in _SIZES:
        return None
    return DEMO_RASTERS.get(_sha256(path))


def complete_demo_settings(folder: Path, settings: GcbmSettings) -> tuple[GcbmSettings, list[str]]:
    """`settings` of the upload folder `folder` completed with the demo's tables for its demo
    rasters that have none, and the demo's period and spatial unit where left out when all its
    classifier and disturbance rasters and its database are the demo's. Returns the settings and
    notes saying what was taken (none: `settings` unchanged)."""
    document = settings.model_dump(mode="json", exclude_unset=True)
    layers: dict[str, Any] = document.setdefault("layers", {})
    tabled, all_demo, any_raster = [], True, False
    for category in _TABLE_FOLDERS:
        directory = folder / category
        rasters = sorted(p for p in directory.glob("*") if p.suffix.lower() in RASTER_SUFFIXES) \
            if directory.is_dir() else []
        for path in rasters:
            any_raster = True
            demo = _demo_layer(path)
            if demo is None:
                all_demo = False
                continue
            name = layer_name_from_file(path)
            if layers.get(name, {}).get("attributes") is None:
                layers.setdefault(name, {})["attributes"] = demo[2]
                tabled.append(name if name == demo[0] else f"{name} (the demo's {demo[0]})")
    notes = []
    if tabled:
        notes.append("recognised upstream FLINT.Cloud's demo rasters by content (sha256); used "
                     f"the demo's attribute tables for {', '.join(tabled)}")
    database = folder / "db" / "gcbm_input.db"
    if any_raster and all_demo and database.is_file() \
            and database.stat().st_size == DEMO_DATABASE[1] and _sha256(database) == DEMO_DATABASE[0]:
        taken = {key: value for key, value in DEMO_SETTINGS.items()
                 if document.get(key) is None and not _given_by_layer(folder, layers, key)}
        document.update(taken)
        if taken:
            notes.append("the inputs are upstream's demo: used its "
                         + ", ".join(f"{key} {value}" for key, value in taken.items()))
    if not notes:
        return settings, []
    return parse_settings(document, source="upstream demo"), notes


def _given_by_layer(folder: Path, layers: dict[str, Any], key: str) -> bool:
    """Whether a spatial-unit layer gives `key` (admin_boundary, eco_boundary) per pixel."""
    return any(isinstance(entry, dict) and entry.get("role") == key for entry in layers.values()) \
        or any(path.stem.lower() == key for path in (folder / "miscellaneous").glob("*"))


__all__ = ["DEMO_RASTERS", "DEMO_SETTINGS", "complete_demo_settings"]
