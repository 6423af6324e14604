"""GCBM compiled-indicator definitions: pool collections, fluxes, stock changes, pool indicators.

The definitions are data, declared once in `indicators.json` (the defaults of
GCBM.CompileResults' `compileresults.json`, plus the annual summary); `docs/compiled-indicators.md`
documents the schema. `load_indicators` reads and cross-checks a definitions file, so that a typo
fails with the file and JSON path instead of silently dropping an indicator, as upstream's SQL does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from flintcloud.errors import ConfigError

DEFAULT_INDICATORS = "indicators.json"
FORMAT = "flintcloud-gcbm-indicators/1"
ALL_POOLS = "*"  # a pool collection declared as "*" holds every pool of the results database

# The v_* tables an annual-summary column may read, and the column holding their value.
SUMMARY_TABLES = {
    "v_stock_change_indicators": "flux_tc",
    "v_flux_indicator_aggregates": "flux_tc",
    "v_flux_indicators": "flux_tc",
    "v_pool_indicators": "pool_tc",
    "v_age_indicators": "area",  # no indicators: the total area
    "v_total_disturbed_areas": "dist_area",  # no indicators: by disturbance type
}
AREA_TABLE = "v_age_indicators"
DISTURBED_AREA_TABLE = "v_total_disturbed_areas"


class ChangeType(StrEnum):
    """Which fluxes a flux indicator counts (gcbm-spec.md §5.11)."""

    ANNUAL_PROCESS = "Annual Process"  # fluxes without disturbance metadata
    DISTURBANCE = "Disturbance"  # fluxes of a disturbance event
    COMBINED = "Combined"  # both

    def counts(self, is_disturbance: bool) -> bool:
        return self is ChangeType.COMBINED or (self is ChangeType.DISTURBANCE) == is_disturbance


@dataclass(frozen=True, slots=True)
class FluxIndicator:
    """Carbon moved from any pool of `source` to any pool of `sink` (pool-collection names)."""

    name: str
    change_type: ChangeType
    source: str
    sink: str


@dataclass(frozen=True, slots=True)
class StockChange:
    """Sum of the `add` flux collections minus the `subtract` ones."""

    name: str
    add: tuple[str, ...]
    subtract: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SummaryColumn:
    """An annual-summary column: the landscape sum per year of `indicators` in `table`.

    With `by` set (only `disturbance_type`, for disturbed areas) it is one column per value,
    named `<name>[<value>]`.
    """

    name: str
    table: str
    indicators: tuple[str, ...] = ()
    by: str | None = None


@dataclass(frozen=True, slots=True)
class IndicatorSet:
    """All definitions. Mapping order is upstream's insertion order, which fixes the 1-based ids
    (`flux_indicator_id`, `flux_indicator_collection_id`, `indicator_id`) of the v_* tables."""

    pool_collections: dict[str, tuple[str, ...] | str]
    fluxes: tuple[FluxIndicator, ...]
    flux_collections: dict[str, tuple[str, ...]]
    stock_changes: tuple[StockChange, ...]
    pool_indicators: dict[str, str]
    annual_summary: tuple[SummaryColumn, ...]
    source: str = DEFAULT_INDICATORS

    def collection_pools(self, name: str, pool_names: list[str]) -> list[str]:
        """The pools of collection `name` that exist in a results database with `pool_names`."""
        pools = self.pool_collections[name]
        if pools == ALL_POOLS:
            return list(pool_names)
        return [pool for pool in pool_names if pool in pools]


def load_indicators(path: str | Path | None = None) -> IndicatorSet:
    """Read and cross-check an indicator definitions file (default: the packaged one)."""
    if path is None:
        source = DEFAULT_INDICATORS
        packaged = resources.files("flintcloud.gcbm.outputs.compiled").joinpath(DEFAULT_INDICATORS)
        text = packaged.read_text("utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except FileNotFoundError:
            raise ConfigError("file not found", source=source) from None
    try:
        document = json.loads(text, object_pairs_hook=_unique_keys)
    except (json.JSONDecodeError, ValueError) as err:
        raise ConfigError(f"not valid JSON: {err}", source=source) from err
    return _parse(document, source)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    # json.loads keeps the last of two equal keys; a repeated indicator name is a mistake.
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"repeated key(s) {', '.join(map(repr, repeated))}")
    return dict(pairs)


def _parse(document: object, source: str) -> IndicatorSet:
    check = _Checker(source)
    document = check.mapping(document, "")
    if document.get("format") != FORMAT:
        check.fail("format", f"expected {FORMAT!r}, found {document.get('format')!r}")
    pools = {name: check.pool_list(value, f"pool_collections.{name}")
             for name, value in check.section(document, "pool_collections").items()}
    fluxes = tuple(check.flux(name, value, pools)
                   for name, value in check.section(document, "fluxes").items())
    flux_names = {flux.name for flux in fluxes}
    flux_collections = {
        name: check.names(value, f"flux_collections.{name}", flux_names, "flux")
        for name, value in check.section(document, "flux_collections").items()}
    stock_changes = tuple(check.stock_change(name, value, flux_collections)
                          for name, value in check.section(document, "stock_changes").items())
    pool_indicators = {
        name: check.name(value, f"pool_indicators.{name}", pools, "pool collection")
        for name, value in check.section(document, "pool_indicators").items()}
    known = {"v_stock_change_indicators": {sc.name for sc in stock_changes},
             "v_flux_indicator_aggregates": set(flux_collections),
             "v_flux_indicators": flux_names,
             "v_pool_indicators": set(pool_indicators)}
    summary = tuple(check.summary_column(name, value, known)
                    for name, value in check.section(document, "annual_summary").items())
    return IndicatorSet(pools, fluxes, flux_collections, stock_changes, pool_indicators, summary,
                        source)


class _Checker:
    """Shape checks whose errors name the file and the JSON path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, detail: str) -> NoReturn:
        raise ConfigError(detail, source=self.source, field=field or None)

    def mapping(self, value: object, field: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(field, f"expected an object, found {type(value).__name__}")
        return value

    def section(self, document: dict, key: str) -> dict:
        if key not in document:
            self.fail(key, "missing")
        return self.mapping(document[key], key)

    def string_list(self, value: object, field: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(field, "expected a list of names")
        return tuple(value)

    def pool_list(self, value: object, field: str) -> tuple[str, ...] | str:
        return ALL_POOLS if value == ALL_POOLS else self.string_list(value, field)

    def name(self, value: object, field: str, known, kind: str) -> str:
        if not isinstance(value, str):
            self.fail(field, f"expected a {kind} name")
        if value not in known:
            self.fail(field, f"no {kind} named {value!r}")
        return value

    def names(self, value: object, field: str, known, kind: str) -> tuple[str, ...]:
        names = self.string_list(value, field)
        for i, name in enumerate(names):
            self.name(name, f"{field}[{i}]", known, kind)
        return names

    def flux(self, name: str, value: object, pools: dict) -> FluxIndicator:
        field = f"fluxes.{name}"
        value = self.mapping(value, field)
        try:
            change_type = ChangeType(value.get("change_type", ""))  # "": missing
        except ValueError:
            choices = ", ".join(repr(c.value) for c in ChangeType)
            self.fail(f"{field}.change_type", f"expected one of {choices}")
        source, sink = (self.name(value.get(key), f"{field}.{key}", pools, "pool collection")
                        for key in ("from", "to"))
        return FluxIndicator(name, change_type, source, sink)

    def stock_change(self, name: str, value: object, collections: dict) -> StockChange:
        field = f"stock_changes.{name}"
        value = self.mapping(value, field)
        unknown = set(value) - {"add", "subtract"}
        if unknown:
            self.fail(field, f"unknown key(s) {', '.join(sorted(unknown))}; use add, subtract")
        add, subtract = (self.names(value.get(key, []), f"{field}.{key}", collections,
                                    "flux collection") for key in ("add", "subtract"))
        if not add and not subtract:
            self.fail(field, "needs at least one flux collection to add or subtract")
        return StockChange(name, add, subtract)

    def summary_column(self, name: str, value: object, known: dict) -> SummaryColumn:
        field = f"annual_summary.{name}"
        value = self.mapping(value, field)
        table = self.name(value.get("table"), f"{field}.table", SUMMARY_TABLES, "table")
        if table == DISTURBED_AREA_TABLE:
            if value.get("by") != "disturbance_type":
                self.fail(f"{field}.by", f"{table} is summarised by 'disturbance_type'")
            return SummaryColumn(name, table, by="disturbance_type")
        if table == AREA_TABLE:
            return SummaryColumn(name, table)
        indicators = self.names(value.get("indicators"), f"{field}.indicators", known[table],
                                "indicator")
        return SummaryColumn(name, table, indicators)
