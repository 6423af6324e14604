"""The layout of a GCBM run's output folder, declared once: file and folder names, and what a
WriteVariableGeotiff item's values mean (their unit). The run writes each item's name, unit and
years into `manifest.json` (`items`); the service and the UI read them from there.

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
