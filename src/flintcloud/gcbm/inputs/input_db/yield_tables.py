"""Yield tables in: merchantable volume by age for each classifier set and species, from CSV.

Two layouts are read (column names are matched case-insensitively):
- wide: classifier columns, a species column, and one column per age (`0, 10, 20, …`), one row per
  (classifier set, species);
- long: classifier columns, a species column, `age` and `volume`, one row per age.
Several species rows for one classifier set make a mixed stand (several growth-curve components).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from flintcloud.errors import InputError

WILDCARD = "?"


@dataclass(frozen=True, slots=True)
class Component:
    """One species of a growth curve: volumes (m³/ha) at ages (years) on a regular grid."""

    species: str
    ages: tuple[int, ...]
    volumes: tuple[float, ...]
    line: int  # CSV line (1 = header) where the component starts, for error messages


@dataclass(frozen=True, slots=True)
class GrowthCurve:
    classifier_values: tuple[str, ...]  # one per classifier, in `YieldTables.classifiers` order
    components: tuple[Component, ...]

    @property
    def description(self) -> str:
        """GCBM's growth-curve description: the classifier values joined by commas (e.g. "BF,7")."""
        return ",".join(self.classifier_values)


@dataclass(frozen=True, slots=True)
class YieldTables:
    source: str  # file name, for error messages
    classifiers: tuple[str, ...]
    species_column: str
    curves: tuple[GrowthCurve, ...]


def read_yield_tables(
    path: str | Path,
    *,
    classifiers: list[str] | tuple[str, ...] | None = None,
    species_column: str = "species",
) -> YieldTables:
    """Read and check a yield-table CSV (wide or long layout, see the module docstring).

    `classifiers` names the classifier columns, in the order GCBM should know them; by default every
    column that is neither the species column nor an age/volume column is a classifier.
    """
    path = Path(path)
    source = str(path)
    table = _read_csv(path)
    columns = {name.lower(): name for name in table.columns}
    species = columns.get(species_column.lower())
    if species is None:
        raise InputError(f"no species column; the columns are {', '.join(table.columns)}",
                         source=source, field=species_column,
                         hint="name the CBM species column with --species-column")
    is_long = "age" in columns and "volume" in columns
    age_columns = [] if is_long else [name for name in table.columns if _is_integer(name)]
    if not is_long and not age_columns:
        raise InputError("no volume-by-age columns: expected numeric headers (0, 10, 20, …) "
                         "or `age` and `volume` columns", source=source)
    used = {species, *age_columns} | ({columns["age"], columns["volume"]} if is_long else set())
    classifier_names = _classifier_columns(table, classifiers, used, source)

    table = table.assign(**{name: table[name].str.strip() for name in classifier_names})
    for name in [*classifier_names, species]:
        empty = table.index[table[name] == ""]
        if len(empty):
            raise InputError(f"line {_line(empty[0])}: empty value", source=source, field=name)

    if is_long:
        curves = _long_curves(table, classifier_names, species, columns, source)
    else:
        curves = _wide_curves(table, classifier_names, species, age_columns, source)
    return YieldTables(source=source, classifiers=tuple(classifier_names),
                       species_column=species, curves=curves)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise InputError("file not found", source=str(path)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(f"not a readable CSV table: {err}", source=str(path)) from err
    table.columns = [str(name).strip() for name in table.columns]
    if table.empty:
        raise InputError("the table has no rows", source=str(path))
    return table


def _classifier_columns(table: pd.DataFrame, requested, used: set[str], source: str) -> list[str]:
    if requested is None:
        names = [name for name in table.columns if name not in used]
    else:
        columns = {name.lower(): name for name in table.columns}
        names = []
        for name in requested:
            if name.lower() not in columns:
                raise InputError(f"no such classifier column; the columns are "
                                 f"{', '.join(table.columns)}", source=source, field=name)
            names.append(columns[name.lower()])
    if not names:
        raise InputError("no classifier column: GCBM matches growth curves by classifier values",
                         source=source, hint="add a column per classifier, e.g. Classifier1")
    return names


def _wide_curves(table, classifier_names, species, age_columns, source) -> tuple[GrowthCurve, ...]:
    ages = [int(float(name)) for name in age_columns]
    _check_ages(ages, source, field=", ".join(age_columns))
    order = sorted(range(len(ages)), key=ages.__getitem__)
    ages_sorted = tuple(ages[i] for i in order)
    volumes = {name: [_volume(value, index, source, name) for index, value in table[name].items()]
               for name in age_columns}
    rows = []
    for position, index in enumerate(table.index):
        key = (tuple(table.loc[index, name] for name in classifier_names), table.loc[index, species])
        row_volumes = tuple(volumes[age_columns[i]][position] for i in order)
        rows.append((key, Component(key[1], ages_sorted, row_volumes, _line(index))))
    return _group(rows, source, species, ", ".join(classifier_names))


def _long_curves(table, classifier_names, species, columns, source) -> tuple[GrowthCurve, ...]:
    age_name, volume_name = columns["age"], columns["volume"]
    points: dict[tuple, dict[int, float]] = {}  # folded key -> {age: volume}
    first: dict[tuple, tuple[tuple, int]] = {}  # folded key -> (key as first written, line)
    for index, row in table.iterrows():
        key = (tuple(row[name] for name in classifier_names), row[species])
        folded = _fold(key)
        age = _age(row[age_name], index, source, age_name)
        curve_points = points.setdefault(folded, {})
        first.setdefault(folded, (key, _line(index)))
        if age in curve_points:
            raise InputError(f"line {_line(index)}: age {age} given twice for classifier set "
                             f"{','.join(key[0])} and species {key[1]!r}",
                             source=source, field=age_name)
        curve_points[age] = _volume(row[volume_name], index, source, volume_name)
    rows = []
    for folded, curve_points in points.items():
        key, line = first[folded]
        ages = sorted(curve_points)
        _check_ages(ages, source, field=age_name,
                    context=f"classifier set {','.join(key[0])}, species {key[1]!r}: ")
        volumes = tuple(curve_points[age] for age in ages)
        rows.append((key, Component(key[1], tuple(ages), volumes, line)))
    return _group(rows, source, species, ", ".join(classifier_names))


def _group(rows, source, species_field, classifier_field) -> tuple[GrowthCurve, ...]:
    """Components grouped by classifier set, in order of first appearance."""
    curves: dict[tuple[str, ...], list[Component]] = {}
    seen: dict[tuple, int] = {}
    spelled: dict[tuple[str, ...], tuple[tuple[str, ...], int]] = {}  # folded set -> first spelling
    for (values, species), component in rows:
        folded = _fold((values, species))
        first_values, first_line = spelled.setdefault(folded[0], (values, component.line))
        if first_values != values:
            # GCBM matches classifier values with LIKE: sets equal up to case would tie.
            raise InputError(f"line {component.line}: classifier set {','.join(values)} differs "
                             f"from {','.join(first_values)} (line {first_line}) only by case",
                             source=source, field=classifier_field,
                             hint="GCBM matches classifier values case-insensitively")
        if folded in seen:
            raise InputError(f"line {component.line}: duplicate classifier set "
                             f"{','.join(values)} with species {species!r} (first on line "
                             f"{seen[folded]})", source=source, field=species_field)
        seen[folded] = component.line
        curves.setdefault(values, []).append(component)
    return tuple(GrowthCurve(values, tuple(components)) for values, components in curves.items())


def _fold(key: tuple) -> tuple:
    """Species names and (in GCBM) classifier values match case-insensitively."""
    values, species = key
    return tuple(value.lower() for value in values), species.lower()


def _check_ages(ages: list[int], source: str, field: str, context: str = "") -> None:
    ages = sorted(ages)
    if ages[0] < 0:
        raise InputError(f"{context}negative age {ages[0]}", source=source, field=field)
    if len(ages) < 2:
        raise InputError(f"{context}a yield curve needs at least two ages", source=source,
                         field=field)
    steps = {b - a for a, b in zip(ages, ages[1:], strict=False)}
    if len(steps) != 1:
        # GCBM takes the interval from the first two ages and interpolates on that grid.
        raise InputError(f"{context}ages {', '.join(map(str, ages))} are not on a regular grid "
                         f"(steps {', '.join(map(str, sorted(steps)))})", source=source,
                         field=field, hint="GCBM interpolates yield tables on one fixed interval")


def _age(text: str, index, source: str, field: str) -> int:
    if not _is_integer(text):
        raise InputError(f"line {_line(index)}: age {text!r} is not a whole number",
                         source=source, field=field)
    return int(float(text))


def _volume(text: str, index, source: str, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise InputError(f"line {_line(index)}: volume {text!r} is not a number",
                         source=source, field=field)
    if value < 0:
        raise InputError(f"line {_line(index)}: negative volume {text}", source=source,
                         field=field)
    return value


def _is_integer(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and value == int(value)


def _line(index) -> int:
    """CSV line of a data row: the header is line 1."""
    return int(index) + 2
