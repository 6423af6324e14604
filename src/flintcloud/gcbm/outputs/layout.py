"""The layout of a GCBM run's output folder, declared once: file and folder names, and what a
WriteVariableGeotiff item's values mean (their unit) and what GCBM's standard items are. The run
writes each item's name, unit and years into `manifest.json` (`items`); the service and the UI
read them from there.

- `gcbm_output.db`: CBMAggregatorSQLiteWriter's tables (gcbm-spec §6.2), tonnes of carbon;
- `compiled_simulation_output.db`: GCBM.CompileResults' tables and views;
- `annual_summary.csv/.json`: the main indicators per year; `pool_totals_by_year.csv`,
  `fluxes_by_year.csv`: the landscape totals;
- `<item>/<lon>_<lat>/<item>_<lon>_<lat>_<block>_<step>.tif`: WriteVariableGeotiff's block files
  (gcbm-spec §6.1), step 1 = the first simulated year, step 0 = init;
- `cog/<item>_<year>.tif` (`<item>_init.tif`): one Cloud-Optimized GeoTIFF per item and year over
  the whole study area;
- `manifest.json`: every input and output with its sha256, the configuration, the items.
"""

from __future__ import annotations

from flintcloud.io.manifest import MANIFEST_NAME

RESULTS_DB = "gcbm_output.db"  # CBMAggregatorSQLiteWriter's default `databasename`
COMPILED_DB = "compiled_simulation_output.db"  # GCBM.CompileResults' default name
ANNUAL_SUMMARY_CSV = "annual_summary.csv"
ANNUAL_SUMMARY_JSON = "annual_summary.json"
POOL_TOTALS_CSV = "pool_totals_by_year.csv"
FLUXES_CSV = "fluxes_by_year.csv"
COG_FOLDER = "cog"
MANIFEST = MANIFEST_NAME  # written by io.manifest
INIT_LABEL = "init"  # the year label of items written once, at TimingInit

# The files of a run its reader opens first, with what each is (the UI's download buttons).
MAIN_FILES = {RESULTS_DB: "Results database", COMPILED_DB: "Compiled indicators",
              ANNUAL_SUMMARY_CSV: "Annual summary (CSV)", MANIFEST: "Manifest"}

# What GCBM's standard WriteVariableGeotiff items (the templates' modules_output.json) are; the
# API serves it with each item. Another item (a project's own) has no description.
ITEM_DESCRIPTIONS = {
    "Age": "Stand age",
    "AG_Biomass_C": "Carbon in above-ground live biomass",
    "Total_Ecosystem_C": "All carbon in biomass, dead organic matter and soil",
    "Total_Biomass_C": "Carbon in live biomass",
    "Dead_Organic_Matter_C": "Carbon in dead organic matter (litter, dead wood and soil)",
    "Soil_C": "Carbon in the soil pools",
    "NPP": "Net primary production",
    "NEP": "Net ecosystem production (NPP minus heterotrophic respiration)",
    "Decomp_Releases": "Carbon released by decomposition (heterotrophic respiration)",
    "NBP": "Net biome production (NEP minus disturbance losses)",
    "Delta_Total_Ecosystem": "Yearly change in ecosystem carbon",
    "Delta_Total_Biomass": "Yearly change in biomass carbon",
    "Delta_Total_DOM": "Yearly change in dead-organic-matter carbon",
    "Total_Emissions": "Carbon emitted to the atmosphere",
    "Total_Biomass_Emissions": "Emissions from biomass",
    "Total_DOM_Emissions": "Emissions from dead organic matter",
    "Total_CO2_Emissions": "Carbon emitted as CO₂",
    "Total_CO_Emissions": "Carbon emitted as CO",
    "Total_CH4_Emissions": "Carbon emitted as CH₄",
    "Ecosystem_Removals": "Carbon removed from the ecosystem (harvest)",
    "Bio_To_DOM_From_Disturbances": "Biomass turned into dead organic matter by disturbances",
}


def item_unit(*, variable: str | None, is_flux: bool, area_adjusted: bool,
              subtract_previous: bool) -> str:
    """The unit of a WriteVariableGeotiff item's pixel values. Pools and fluxes are per hectare
    unless area-adjusted (then per pixel: times its area in ha); fluxes, and pools written as the
    change since the step before, are per year."""
    if variable == "age":
        return "years"
    if variable == "landUnitArea":
        return "ha"
    per_year = is_flux or subtract_previous
    carbon = "tC" if area_adjusted else "tC/ha"
    return f"{carbon}/yr" if per_year else carbon


def cog_name(item: str, label: str) -> str:
    """A mosaic's file name in `COG_FOLDER`: label is a year or `INIT_LABEL`."""
    return f"{item}_{label}.tif"
