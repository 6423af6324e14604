"""What a GCBM run left in its output folder, as its `manifest.json` declares it, and the JSON
summaries the API serves from it.

The run writes each WriteVariableGeotiff item into the manifest's `items` (name, unit, kind,
years, the folder of its block GeoTIFFs, its mosaics; the layout is `layout.py`'s). The items a
run can write are described the same way from their module's JSON (`describe_module_items`). Everything
here is read from there: no file name is parsed and no unit guessed. A name a client sends is
looked up among the items, never joined into a path, and every path the manifest gives must stay
inside the run folder and not be a symbolic link.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flintcloud.errors import InputError, NotFoundError
from flintcloud.flint.config import FlintConfig
from flintcloud.gcbm.outputs.geotiffs import read_output_items
from flintcloud.gcbm.outputs.layout import (
    ANNUAL_SUMMARY_JSON,
    INIT_LABEL,
    ITEM_DESCRIPTIONS,
    MAIN_FILES,
    MANIFEST,
)


@dataclass(frozen=True, slots=True)
class OutputItem:
    """One WriteVariableGeotiff item of a run, as `manifest.json` declares it."""
    name: str
    unit: str                   # of its pixel values, e.g. "tC/ha", "tC" (area-adjusted), "years"
    kind: str                   # "pools", "fluxes" or "variable"
    folder: str                 # its block GeoTIFFs, relative to the run folder
    years: tuple[str, ...]      # labels in step order: block step k (1-based) is years[k - 1]
    mosaics: dict[str, str]     # year label -> COG, relative to the run folder; {} without mosaics

    @property
    def is_init(self) -> bool:
        """Written once, at TimingInit: its block files have step 0."""
        return self.years == (INIT_LABEL,)


@dataclass(frozen=True, slots=True)
class ItemMaps:
    """The mosaics of one item that exist: year label -> path, in the item's year order."""
    unit: str
    kind: str
    paths: dict[str, Path]


def annual_summary(output_dir: Path) -> list[dict[str, Any]]:
    """Per simulated year: area, stocks, NPP, Rh, NEP, NBP, emissions by gas and disturbed area
    by type, in tonnes C (flintcloud.gcbm.outputs.compiled.summary); year 0 (spinup) left out."""
    path = output_dir / ANNUAL_SUMMARY_JSON
    if not path.is_file():
        raise NotFoundError("the run wrote no annual summary", source=ANNUAL_SUMMARY_JSON)
    try:
        summary: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"unreadable annual summary: {err}", source=ANNUAL_SUMMARY_JSON) from err
    return summary


def output_items(output_dir: Path) -> list[OutputItem]:
    """The run's output items, in the order its manifest lists them."""
    path = output_dir / MANIFEST
    if not path.is_file():
        raise NotFoundError("the run wrote no manifest", source=MANIFEST)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"unreadable manifest: {err}", source=MANIFEST) from err
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise InputError("the manifest lists no output items", source=MANIFEST, field="items",
                         hint="written by an older flintcloud: run the simulation again")
    return [_item(entry, f"items[{index}]") for index, entry in enumerate(document["items"])]


def _item(entry: object, field: str) -> OutputItem:
    if not isinstance(entry, dict):
        raise InputError(f"expected an object, got {entry!r}", source=MANIFEST,
                         field=field)
    fields: dict[str, Any] = entry

    def text(key: str) -> str:
        value = fields.get(key)
        if not isinstance(value, str) or not value:
            raise InputError(f"expected a non-empty string, got {value!r}",
                             source=MANIFEST, field=f"{field}.{key}")
        return value

    name, unit, kind, folder = text("name"), text("unit"), text("kind"), text("folder")
    years, mosaics = fields.get("years"), fields.get("mosaics", {})
    if not isinstance(years, list) or not all(isinstance(year, str) for year in years):
        raise InputError(f"expected a list of year labels, got {years!r}",
                         source=MANIFEST, field=f"{field}.years")
    if not isinstance(mosaics, dict) or not all(
            isinstance(label, str) and isinstance(relative, str)
            for label, relative in mosaics.items()):
        raise InputError(f"expected year label -> path, got {mosaics!r}",
                         source=MANIFEST, field=f"{field}.mosaics")
    return OutputItem(name, unit, kind, folder, tuple(years), dict(mosaics))


def find_item(items: list[OutputItem], name: str) -> OutputItem:
    """The item called `name`, or a 404 naming those that exist."""
    for item in items:
        if item.name == name:
            return item
    raise NotFoundError(f"no indicator {name!r}", field="indicator",
                        hint=f"indicators: {', '.join(item.name for item in items) or 'none'}")


def indicator_names(output_dir: Path) -> list[str]:
    """The names of the run's output items."""
    return [item.name for item in output_items(output_dir)]


def describe_items(output_dir: Path) -> list[dict[str, Any]]:
    """Per item of the run, in its manifest's order: name, unit, kind (pools, fluxes or
    variable), year labels, and the description of GCBM's standard items (else None)."""
    return [{"name": item.name, "unit": item.unit, "kind": item.kind, "years": list(item.years),
             "description": ITEM_DESCRIPTIONS.get(item.name)}
            for item in output_items(output_dir)]


def describe_module_items(module: dict[str, Any], *,
                          source: str = "modules_output.json") -> list[dict[str, Any]]:
    """Per enabled item of a WriteVariableGeotiff module's JSON (e.g. GCBM's standard one, the
    items a run can write): name, unit, kind and description, as a run would declare them."""
    config = FlintConfig.from_documents([(source, {"Modules": {"WriteVariableGeotiff": module}})])
    items = read_output_items(config.view("Modules", "WriteVariableGeotiff"), Path())
    return [{"name": item.name, "unit": item.unit, "kind": item.kind,
             "description": ITEM_DESCRIPTIONS.get(item.name)} for item in items]


def main_files(output_dir: Path) -> list[dict[str, str]]:
    """The files of the run its reader opens first (results database, compiled indicators,
    annual summary, manifest) that it wrote: path relative to the run folder, and title."""
    return [{"path": name, "title": title} for name, title in MAIN_FILES.items()
            if (output_dir / name).is_file()]


def _inside(output_dir: Path, relative: str) -> Path | None:
    """output_dir / relative if it stays inside output_dir and is no symbolic link, else None."""
    root = output_dir.resolve()
    path = root / relative
    if Path(relative).is_absolute() or path.is_symlink():
        return None
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return None
    return path


def _block_tiffs(output_dir: Path, item: OutputItem) -> Iterator[tuple[int, Path]]:
    """(step, path) of the item's block files: <folder>/<tile>/<name>_<tile>_<block>_<step>.tif."""
    folder = _inside(output_dir, item.folder)
    if folder is None or not folder.is_dir():
        return
    for tile in sorted(folder.iterdir()):
        if tile.is_symlink() or not tile.is_dir():
            continue
        prefix = f"{item.name}_{tile.name}_"
        for path in sorted(tile.iterdir()):
            if not path.name.startswith(prefix) or path.suffix != ".tif" or path.is_symlink():
                continue
            block, _, step = path.name[len(prefix):-len(".tif")].partition("_")
            if block.isdigit() and step.isdigit() and path.is_file():
                yield int(step), path


def indicator_series(output_dir: Path, indicator: str) -> list[dict[str, Any]]:
    """Per year of one item, over every simulated pixel: mean, min, max (in the item's unit).
    `label` is the manifest's year label, `year` the same as a number (None for init)."""
    import rasterio

    item = find_item(output_items(output_dir), indicator)
    by_step: dict[int, list[np.ndarray]] = defaultdict(list)
    for step, path in _block_tiffs(output_dir, item):
        with rasterio.open(path) as raster:
            values = raster.read(1, masked=True)
        by_step[step].append(values.compressed().astype(np.float64))
    series = []
    for step in sorted(by_step):
        index = 0 if item.is_init else step - 1
        if not 0 <= index < len(item.years):
            continue  # a step the manifest does not declare
        label = item.years[index]
        values = np.concatenate(by_step[step])
        series.append({
            "step": step, "label": label, "year": int(label) if label.isdigit() else None,
            "unit": item.unit, "n_pixels": int(values.size),
            "mean": float(values.mean()) if values.size else None,
            "min": float(values.min()) if values.size else None,
            "max": float(values.max()) if values.size else None,
        })
    return series


def map_catalogue(output_dir: Path) -> dict[str, ItemMaps]:
    """Item name -> its unit, kind and mosaics (year label -> COG path), for the items with at
    least one mosaic. The one place a map's indicator and year become a path: callers look names
    up here. Paths come only from the manifest and must be regular files inside the run folder."""
    catalogue = {}
    for item in output_items(output_dir):
        paths = {}
        for label in item.years:
            relative = item.mosaics.get(label)
            path = _inside(output_dir, relative) if relative is not None else None
            if path is not None and path.is_file():
                paths[label] = path
        if paths:
            catalogue[item.name] = ItemMaps(item.unit, item.kind, paths)
    return catalogue
