"""Attribute tables of classifier and disturbance layers: pixel value -> classifier value, or
pixel value -> disturbance event(s). Read from a GCBM layer JSON next to the raster, a sidecar
file (JSON, YAML or CSV), or a GDAL raster attribute table (`<raster>.aux.xml`), and normalised
to GCBM's form: keys are decimal strings, classifier values strings, events objects with
`disturbance_type` (or `disturbance_type_id`), `year` and optional `transition`.
"""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import yaml

from flintcloud.errors import InputError, InputProblems
from flintcloud.gcbm.inputs.model import Role
from flintcloud.io.documents import DocumentError, parse_json, parse_yaml

# `*_YYYY*`: an underscore, four digits, then the end of the name or a non-digit.
_YEAR = re.compile(r"_(\d{4})(?!\d)")
_EVENT_KEYS = {"disturbance_type", "disturbance_type_id", "year", "transition"}
_MAX_SIDECAR_BYTES = 16 * 2**20
# GDAL's raster attribute table field usages (gdal.h: GDALRATFieldUsage).
_RAT_USAGE_NAME, _RAT_USAGE_MINMAX = 2, 5


def year_from_name(name: str) -> int | None:
    """The year in a disturbance layer's file name by the `*_YYYY*` rule: the last `_YYYY`
    group not followed by another digit (`disturbances_2011_moja.tiff` -> 2011)."""
    matches = _YEAR.findall(name)
    return int(matches[-1]) if matches else None


def load_document(path: Path) -> Any:
    """A JSON or YAML document (by suffix; YAML also reads JSON), errors naming the file. YAML
    anchors and aliases and documents nested deeper than MAX_NESTING are refused
    (flintcloud.io.documents: an alias bomb would expand before anything could bound it)."""
    if path.stat().st_size > _MAX_SIDECAR_BYTES:
        raise InputError(f"larger than {_MAX_SIDECAR_BYTES:,} bytes", source=path.name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot be read as UTF-8 text: {err}", source=path.name) from err
    try:
        if path.suffix.lower() == ".json":
            return parse_json(text)
        return parse_yaml(text)
    except DocumentError as err:
        raise InputError(str(err), source=path.name) from err
    except json.JSONDecodeError as err:
        raise InputError(f"malformed JSON at line {err.lineno} column {err.colno}: {err.msg}",
                         source=path.name) from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise InputError(f"malformed YAML{where}: {getattr(err, 'problem', err)}",
                         source=path.name) from err


def read_csv_tables(path: Path) -> dict[str | None, dict[str, Any]]:
    """Attribute tables from a CSV: one row per (layer, pixel value), columns `layer` (optional
    in a one-layer sidecar), `value`, then `classifier_value`, or `disturbance_type` (or
    `disturbance_type_id`), `year`, `transition`. Returns layer (or None) -> raw table."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            rows = list(csv.DictReader(file))
            columns = [c.strip().lower() for c in (rows[0].keys() if rows else [])]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"cannot be read as CSV: {err}", source=path.name) from err
    if "value" not in columns:
        raise InputError("the header needs a 'value' column (and 'classifier_value' or "
                         "'disturbance_type')", source=path.name)
    tables: dict[str | None, dict[str, Any]] = {}
    for line, row in enumerate(rows, start=2):
        cells = {key.strip().lower(): (cell or "").strip() for key, cell in row.items() if key}
        layer = cells.get("layer") or None
        value = cells["value"]
        if "classifier_value" in cells and cells["classifier_value"]:
            interpretation: Any = cells["classifier_value"]
        else:
            interpretation = {key: _number_or_text(cells[key]) for key in _EVENT_KEYS
                              if cells.get(key)}
        if not interpretation:
            raise InputError(f"line {line}: value {value!r} has no classifier_value or "
                             "disturbance_type", source=path.name)
        table = tables.setdefault(layer, {})
        if isinstance(interpretation, dict) and value in table:
            previous = table[value]
            table[value] = [*(previous if isinstance(previous, list) else [previous]),
                            interpretation]  # several events for one pixel value
        else:
            table[value] = interpretation
    return tables


def _number_or_text(text: str) -> Any:
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else text


def read_sidecar(path: Path) -> Any:
    """One layer's attribute table from its own sidecar file (JSON, YAML or CSV)."""
    if path.suffix.lower() == ".csv":
        tables = read_csv_tables(path)
        if len(tables) != 1:
            raise InputError("a one-layer sidecar CSV must not name several layers",
                             source=path.name, field="layer")
        return next(iter(tables.values()))
    document = load_document(path)
    if isinstance(document, dict) and "attributes" in document:  # a GCBM layer JSON
        return document["attributes"]
    return document


def layer_json(raster: Path) -> tuple[dict | None, float | None]:
    """(attributes, nodata) of the GCBM layer JSON next to a raster (same stem), if any."""
    path = raster.with_name(raster.name.split(".")[0] + ".json")
    if not path.is_file():
        return None, None
    document = load_document(path)
    if not isinstance(document, dict):
        raise InputError("a GCBM layer JSON must be an object", source=path.name)
    nodata = document.get("nodata")
    return document.get("attributes"), nodata if isinstance(nodata, int | float) else None


def raster_attribute_table(raster: Path) -> dict | None:
    """The attribute table of band 1 in GDAL's `<raster>.aux.xml`, as a raw table, or None.

    Columns: the value column (usage MinMax, or named `value`); then `classifier_value` (or the
    column of usage Name) for a classifier, or `disturbance_type`, `year`, `transition`.
    """
    path = raster.with_name(raster.name + ".aux.xml")
    if not path.is_file():
        return None
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as err:
        raise InputError(f"malformed XML: {err}", source=path.name) from err
    table = root.find("./PAMRasterBand[@band='1']/GDALRasterAttributeTable")
    if table is None:
        return None
    fields = [(int(f.get("index", i)), (f.findtext("Name") or "").strip(),
               int(f.findtext("Usage") or 0)) for i, f in enumerate(table.findall("FieldDefn"))]
    names = {index: name.lower() for index, name, _ in fields}
    usages = {index: usage for index, _, usage in fields}
    value_col = next((i for i, usage in usages.items() if usage == _RAT_USAGE_MINMAX),
                     next((i for i, name in names.items() if name == "value"), None))
    if value_col is None:
        raise InputError("the raster attribute table has no value column (usage MinMax or "
                         "named 'value')", source=path.name)
    class_col = next((i for i, name in names.items() if name == "classifier_value"),
                     next((i for i, usage in usages.items() if usage == _RAT_USAGE_NAME), None))
    out: dict[str, Any] = {}
    for row in table.findall("Row"):
        cells = [cell.text or "" for cell in row.findall("F")]
        if value_col >= len(cells):
            continue
        value = cells[value_col].strip()
        events = {names[i]: _number_or_text(cells[i].strip()) for i in names
                  if names[i] in _EVENT_KEYS and i < len(cells) and cells[i].strip()}
        if events:
            out[value] = events
        elif class_col is not None and class_col < len(cells):
            out[value] = cells[class_col].strip()
    return out


def normalise(raw: Any, role: Role, *, source: str, field: str, default_year: int | None,
              problems: InputProblems) -> dict[str, Any] | None:
    """A raw attribute table in GCBM's form, or None after adding its problems."""
    if not isinstance(raw, dict) or not raw:
        problems.add("the attribute table must map pixel values to attributes and not be empty",
                     source=source, field=field)
        return None
    out: dict[str, Any] = {}
    before = len(problems.problems)
    for key, value in raw.items():
        where = f"{field}[{key!r}]"
        pixel = _pixel_value(key)
        if pixel is None:
            problems.add(f"pixel value {key!r} is not an integer", source=source, field=where)
            continue
        if role is Role.CLASSIFIER:
            interpretation = _classifier_value(value, source, where, problems)
        elif role in (Role.ADMIN_BOUNDARY, Role.ECO_BOUNDARY):
            interpretation = _boundary_name(value, role, source, where, problems)
        else:
            interpretation = _events(value, source, where, default_year, problems)
        if interpretation is not None:
            out[str(pixel)] = interpretation
    return out if len(problems.problems) == before else None


def _pixel_value(key: Any) -> int | None:
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str) and re.fullmatch(r"\s*[+-]?\d+\s*", key):
        return int(key)
    return None


def _classifier_value(value: Any, source: str, where: str, problems: InputProblems) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or str(value) == "":
        problems.add(f"classifier value {value!r} must be a non-empty string", source=source,
                     field=where)
        return None
    return str(value)


def _boundary_name(value: Any, role: Role, source: str, where: str,
                   problems: InputProblems) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.add(f"{role} {value!r} must be a name (as in the input database)",
                     source=source, field=where)
        return None
    return value


def _events(value: Any, source: str, where: str, default_year: int | None,
            problems: InputProblems) -> Any:
    """One event, or a list of events (several for one pixel value, as GCBM allows)."""
    if not isinstance(value, list):
        return _event(value, source, where, default_year, problems)
    if not value:
        problems.add("no disturbance event", source=source, field=where)
        return None
    events = [_event(item, source, f"{where}[{i}]", default_year, problems)
              for i, item in enumerate(value)]
    return None if None in events else events


def _conditions_ok(conditions: Any, source: str, where: str, problems: InputProblems) -> bool:
    """An event's `conditions`, as CBMDisturbanceListener reads them: a list of [variable or
    classifier name, comparison ("<", ">=", anything else: equal), value]; the names are
    checked when the project is read (project.listener)."""
    if not isinstance(conditions, list):
        problems.add("conditions must be a list of [variable, comparison, value]",
                     source=source, field=where)
        return False
    ok = True
    for number, condition in enumerate(conditions):
        if not (isinstance(condition, list) and len(condition) == 3
                and isinstance(condition[0], str) and condition[0]
                and isinstance(condition[1], str)
                and isinstance(condition[2], str | int | float)):
            problems.add(f"{condition!r} is not [variable, comparison, value]", source=source,
                         field=f"{where}[{number}]", hint='e.g. ["age", ">=", 100]')
            ok = False
    return ok


def _event(item: Any, source: str, where: str, default_year: int | None,
           problems: InputProblems) -> dict | None:
    if isinstance(item, str):  # shorthand: just the disturbance type's name
        item = {"disturbance_type": item}
    if not isinstance(item, dict):
        problems.add("a disturbance attribute must be an object with disturbance_type, year "
                     "and transition, or a disturbance type name", source=source, field=where)
        return None
    event = dict(item)
    ok = True
    if event.get("conditions") is not None and \
            not _conditions_ok(event["conditions"], source, f"{where}.conditions", problems):
        ok = False
    if not (isinstance(event.get("disturbance_type"), str) and event["disturbance_type"]) and \
            not _is_int(event.get("disturbance_type_id")):
        problems.add("missing 'disturbance_type'", source=source, field=where)
        ok = False
    if event.get("year") is None and default_year is not None:
        event["year"] = default_year
    if not _is_int(event.get("year")):
        problems.add("missing 'year'" if event.get("year") is None else
                     f"year {event['year']!r} is not an integer", source=source,
                     field=f"{where}.year",
                     hint="give it in the attributes, or name the file *_YYYY*")
        ok = False
    if event.get("transition") is not None and not _is_int(event["transition"]):
        problems.add(f"transition {event['transition']!r} is not an integer id", source=source,
                     field=f"{where}.transition")
        ok = False
    if not ok:
        return None
    event["year"] = int(event["year"])
    if event.get("transition") is not None:
        event["transition"] = int(event["transition"])
    return event


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(re.fullmatch(r"\d+", value)))
