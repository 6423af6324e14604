"""The modules a GCBM run can use, declared once: each one's name, what it does, whether it can
be switched off, and the settings that configure it with their types (pydantic models, so their
JSON schema comes from here too).

The engine accepts exactly these module names when it reads a project (`project.config`); the
settings model (`inputs.settings.GcbmSettings`) holds the settings classes below under the keys
the modules name (`settings_key`); the service serves the list (`GET /simulations/modules`) and
the UI builds its switches and forms from it. GCBM configures some of them through variables
rather than module settings (the disturbance order, the growth multipliers): `ConfigDocuments`
(inputs/config.py) writes each setting where GCBM reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flintcloud.gcbm.science.pools import POOL_BY_NAME


class Phase(StrEnum):
    SPINUP = "spinup"
    MAIN = "main"  # the simulated years
    OUTPUT = "output"  # what the run writes


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- settings --------------------------------------------------------------------------------

class SpinupParameters(_Strict):
    """Spinup parameters given in the project instead of read from gcbm_input.db."""

    return_interval: int = Field(ge=1, le=10_000)
    max_rotations: int = Field(ge=1, le=10_000)
    historic_disturbance_type: str
    last_pass_disturbance_type: str
    delay: int = Field(0, ge=0, le=10_000)


class SpinupSettings(_Strict):
    enabled: bool = True
    minimum_rotation: int = Field(10, ge=1, le=1000)
    parameters: SpinupParameters | None = None  # None: the spatial unit's, from the database


class GrowthSettings(_Strict):
    smoother_enabled: bool = True


class GrowthMultiplier(_Strict):
    """One value of a growth multiplier series: the `time_step`-th year after a disturbance of
    `disturbance_type`, the increments of the `forest_type` component are multiplied by it."""

    disturbance_type: str = Field(min_length=1, max_length=200)
    forest_type: Literal["Softwood", "Hardwood"]  # CBMGrowthModule's keys; others never apply
    time_step: int = Field(ge=1, le=10_000)
    multiplier: float = Field(ge=0, le=100)


class GrowthMultiplierSettings(_Strict):
    """GrowthMultiplierModule: a disturbance whose type has a series scales the stand's growth
    increments for the years that follow (insect defoliation); any other disturbance ends it."""

    enabled: bool = True
    # None: the input database's series (growth_multiplier_series_association ⋈
    # growth_multiplier_value ⋈ forest_type, as GCBM's standalone template reads them).
    series: list[GrowthMultiplier] | None = Field(
        None, max_length=10_000, description="Empty: the input database's series.")


class DisturbanceOrderSettings(_Strict):
    """The order of a pixel's events of the same year (GCBM's `user_disturbance_order` then
    `default_disturbance_order`); empty: the order of the disturbance layers. List every type
    that can occur in the same year as a listed one: GCBM sorts an unlisted type first. And the
    listener's `conditions` on the events it fires."""

    user: list[str] = Field(default_factory=list, max_length=1000, title="Disturbance order",
                            description="Disturbance type names in the order a pixel's "
                                        "events of a year run (user_disturbance_order).")
    default: list[str] = Field(default_factory=list, max_length=1000, title="Then",
                               description="Types ordered after those (default_disturbance_"
                                           "order).")
    # CBMDisturbanceListener.settings.conditions as GCBM reads them (checked, with the names
    # they use, when the project is read: project/listener.py)
    conditions: list[dict[str, Any]] | None = Field(
        None, max_length=1000,
        description='The listener\'s conditions, e.g. {"disturbance_type": "Wildfire", '
                    '"run_conditions": [{"age": [">=", 10]}]}, with override_conditions and '
                    "override_disturbance_type; none: every event runs as given.")


_ITEM_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,99}$")


class ReportingSettings(_Strict):
    """CBMAggregatorLandUnitData reports by classifier set, land class and age class; these
    variables add columns (`reporting_classifiers`, a CompositeTransform of classifier_set and
    them), named after them, to the results database and every summary."""

    columns: list[str] = Field(
        default_factory=list, max_length=100, title="More columns",
        description="Variables reported besides the classifiers, e.g. admin_boundary and "
                    "eco_boundary when layers give them.")


# A pool's name, as an enumeration so that the schema lists the choices.
PoolName = StrEnum("PoolName", {name: name for name in POOL_BY_NAME})  # type: ignore[misc]


class FluxGroup(_Strict):
    """Fluxes from any of `from` to any of `to` (empty: any pool) of one source, ± signed."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: list[PoolName] = Field(default_factory=list, alias="from", max_length=100)
    to: list[PoolName] = Field(default_factory=list, max_length=100)
    flux_source: Literal["any", "disturbance", "annual_process"] = "any"
    disturbance_types: list[str] = Field(default_factory=list, max_length=1000)
    subtract: bool = False


class OutputItem(_Strict):
    """A WriteVariableGeotiff item of `modules_output.json`: one map per year of a variable, a
    sum of pools or signed sums of flux groups."""

    data_name: str = Field(pattern=_ITEM_NAME.pattern)
    enabled: bool = True
    variable_name: Literal["age", "landUnitArea"] | None = None  # kept per pixel by the engine
    pool_name: list[PoolName] | None = Field(None, max_length=100, title="Pools",
                                             description="The sum of these pools.")
    flux: list[FluxGroup] | None = Field(None, max_length=100, title="Fluxes",
                                         description="The sum of these flux groups.")
    variable_data_type: Literal["UInt8", "UInt16", "Int16", "Int32", "UInt32", "Int64",
                                "UInt64", "float", "double"] = "float"
    on_notification: Literal["OutputStep", "TimingInit"] = "OutputStep"
    apply_area_adjustment: bool = False
    subtract_previous_value: bool = False
    nodata_value: float | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> OutputItem:
        if sum(bool(x) for x in (self.variable_name, self.pool_name, self.flux)) != 1:
            raise ValueError("an item needs exactly one of variable_name, pool_name, flux")
        return self

    def module_item(self) -> dict[str, Any]:
        """The item as WriteVariableGeotiff's settings write it (modules_output.json)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class OutputSettings(_Strict):
    # The enabled standard WriteVariableGeotiff items (GCBM's, the templates'); None: all.
    geotiff_indicators: list[str] | None = Field(
        None, description="The standard indicators written as maps; null: all of them.")
    # The project's own items, written after the standard ones.
    items: list[OutputItem] | None = Field(  # None: none
        None, max_length=200, title="Own output items",
        description="More maps: each a variable, a sum of pools or signed sums of fluxes.")
    results_database: bool = True  # CBMAggregatorSQLiteWriter

    @field_validator("items")
    @classmethod
    def _distinct(cls, items: list[OutputItem] | None) -> list[OutputItem] | None:
        names = [item.data_name for item in items or []]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"items share data_name {duplicates}: their files would overwrite "
                             "each other")
        return items


# -- the modules -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ModuleInfo:
    """One module. `switch` is the settings field (dotted) that turns it on or off (None: it
    always runs when its phase does); `settings_key` the settings section that configures it."""

    name: str
    phase: Phase
    description: str
    switch: str | None = None
    settings_key: str | None = None
    settings: type[BaseModel] | None = None
    on_without_settings: bool = True  # whether it runs when the settings leave its section out

    @property
    def optional(self) -> bool:
        return self.switch is not None

    def is_enabled(self, settings: dict[str, Any]) -> bool:
        """Whether it runs with `settings` (a settings document, what is left out: defaults)."""
        if self.switch is None:
            return True
        section, _, key = self.switch.partition(".")
        values = settings.get(section)
        if values is None:
            return self.on_without_settings
        default = _MODELS_OF[section].model_fields[key].default
        return bool(values.get(key, default))

    def describe(self, settings: dict[str, Any] | None = None) -> dict[str, Any]:
        """The module as the API serves it (the UI builds its switch and form from this); with
        a simulation's `settings`, whether it is enabled."""
        described = {"name": self.name, "phase": str(self.phase),
                     "description": self.description, "optional": self.optional,
                     "switch": self.switch, "settings_key": self.settings_key,
                     "settings_schema": self.settings.model_json_schema(by_alias=True)
                     if self.settings else None}
        if settings is not None:
            described["enabled"] = self.is_enabled(settings)
        return described


MODULES: tuple[ModuleInfo, ...] = (
    ModuleInfo("CBMSpinupSequencer", Phase.SPINUP,
               "Fills the dead organic matter and soil pools before the simulation: repeated "
               "growth and historic disturbances until the slow pools are stable.",
               switch="spinup.enabled", settings_key="spinup", settings=SpinupSettings),
    ModuleInfo("CBMSpinupDisturbanceModule", Phase.SPINUP,
               "Applies spinup's historic and last-pass disturbances."),
    ModuleInfo("CBMBuildLandUnitModule", Phase.MAIN,
               "Decides whether each pixel is simulated, and sets its classifier set and land "
               "classes."),
    ModuleInfo("CBMSequencer", Phase.MAIN, "The annual time loop of the main simulation."),
    ModuleInfo("CBMDisturbanceListener", Phase.MAIN,
               "Reads the disturbance layers and turns their pixel values into events, in the "
               "disturbance order.",
               settings_key="disturbance_order", settings=DisturbanceOrderSettings),
    ModuleInfo("CBMDisturbanceEventModule", Phase.MAIN,
               "Applies each event's disturbance matrix, moving carbon between pools and to the "
               "atmosphere."),
    ModuleInfo("CBMTransitionRulesModule", Phase.MAIN,
               "Applies the transition of an event: classifier changes, regeneration delay, "
               "age reset."),
    ModuleInfo("CBMLandClassTransitionModule", Phase.MAIN,
               "Land-class bookkeeping: forest or not, and the UNFCCC land class."),
    ModuleInfo("GrowthMultiplierModule", Phase.MAIN,
               "Growth multipliers after disturbances (e.g. insect defoliation): scales the "
               "growth increments for the years after an event whose type has a series.",
               switch="growth_multipliers.enabled", settings_key="growth_multipliers",
               settings=GrowthMultiplierSettings, on_without_settings=False),
    ModuleInfo("CBMGrowthModule", Phase.MAIN,
               "Growth from yield curves, biomass turnover and overmature decline; ages stands "
               "by one year.", settings_key="growth", settings=GrowthSettings),
    ModuleInfo("CBMDecayModule", Phase.MAIN,
               "Decay of dead organic matter and soil pools (temperature dependent), slow-pool "
               "mixing."),
    ModuleInfo("CBMAgeIndicators", Phase.MAIN, "Computes the age class from the age."),
    ModuleInfo("TransactionManagerAfterSubmitModule", Phase.MAIN,
               "Applies pending carbon transfers after each notification (FLINT internal)."),
    ModuleInfo("WriteVariableGeotiff", Phase.OUTPUT,
               "Writes each output item (a variable, a sum of pools or of fluxes) as maps per "
               "year.", settings_key="outputs", settings=OutputSettings),
    ModuleInfo("CBMAggregatorLandUnitData", Phase.OUTPUT,
               "Aggregates pools and fluxes by classifier set (and more reporting columns), "
               "land class and age class.", settings_key="reporting",
               settings=ReportingSettings),
    ModuleInfo("CBMAggregatorSQLiteWriter", Phase.OUTPUT,
               "Writes the aggregated results to GCBM's results database (gcbm_output.db); "
               "the summaries and compiled indicators are written either way.",
               switch="outputs.results_database"),
)
MODULE_BY_NAME = {module.name: module for module in MODULES}
# The spinup phase runs these (with the main phase's growth, decay and transaction modules).
SPINUP_MODULES = frozenset(
    {m.name for m in MODULES if m.phase is Phase.SPINUP} |
    {"CBMBuildLandUnitModule", "CBMGrowthModule", "CBMDecayModule",
     "TransactionManagerAfterSubmitModule"})
MAIN_MODULES = frozenset(m.name for m in MODULES if m.phase is Phase.MAIN)
OUTPUT_MODULES = frozenset(m.name for m in MODULES if m.phase is Phase.OUTPUT)
# The settings sections the modules own (GcbmSettings keys).
SETTINGS_KEYS = tuple(dict.fromkeys(m.settings_key for m in MODULES if m.settings_key))

# GCBM's standalone template's query of the input database's growth multiplier series.
GROWTH_MULTIPLIERS_QUERY = (
    "SELECT dt.name AS disturbance_type, ft.name AS forest_type, gmv.time_step AS time_step, "
    "gmv.value AS multiplier FROM growth_multiplier_series_association gmsa "
    "INNER JOIN disturbance_type dt ON dt.id = gmsa.disturbance_type_id "
    "INNER JOIN growth_multiplier_value gmv "
    "ON gmv.growth_multiplier_series_id = gmsa.growth_multiplier_series_id "
    "INNER JOIN forest_type ft ON ft.id = gmv.forest_type_id")
GROWTH_MULTIPLIER_TABLES = ("growth_multiplier_series_association", "growth_multiplier_value",
                            "growth_multiplier_series")


# The settings sections' models, for the switches' defaults.
_MODELS_OF: dict[str, type[BaseModel]] = {
    **{m.settings_key: m.settings for m in MODULES if m.settings_key and m.settings},
    "outputs": OutputSettings}


def describe_modules(settings: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every module as the API serves it; with a settings document, whether each runs."""
    return [module.describe(settings) for module in MODULES]


__all__ = ["DisturbanceOrderSettings", "FluxGroup", "GROWTH_MULTIPLIERS_QUERY",
           "GrowthMultiplier", "GrowthMultiplierSettings", "GrowthSettings",
           "MAIN_MODULES", "MODULES", "MODULE_BY_NAME", "ModuleInfo", "OUTPUT_MODULES",
           "OutputItem", "OutputSettings", "Phase", "SETTINGS_KEYS", "SPINUP_MODULES",
           "PoolName", "ReportingSettings", "SpinupParameters", "SpinupSettings", "describe_modules"]
