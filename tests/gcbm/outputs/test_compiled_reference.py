"""Compiling the real GCBM demo results reproduces GCBM.CompileResults' output.

Reference: ../shared/data/gcbm-reference (real GCBM output database, the real
`compiled_simulation_output.db` compiled from it, and CSV extracts; see its README).
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from flintcloud.gcbm.outputs.compiled import annual_summary, compile_results
from flintcloud.gcbm.outputs.compiled.compiled_db import LAYOUTS
from tests.conftest import shared_path

# Numbers in the v_* tables; every other column is part of a row's key.
VALUE_COLUMNS = {"flux_tc", "flux_tc_per_ha", "pool_tc", "area", "dist_area", "dist_carbon",
                 "dist_carbon_per_ha"}
# Against the reference database: sums of the same float64 terms in another order or with
# compensated summation differ in the last bits, more where a stock change subtracts nearly
# equal sums; 1e-9 relative (seen: 4e-16; with pandas sums throughout, 6e-13).
DB_RTOL = 1e-9
# The CSV extracts keep 10 significant digits.
CSV_RTOL = 1e-6
LIVE = ["SoftwoodMerch", "SoftwoodFoliage", "SoftwoodOther", "SoftwoodCoarseRoots",
        "SoftwoodFineRoots", "HardwoodMerch", "HardwoodFoliage", "HardwoodOther",
        "HardwoodCoarseRoots", "HardwoodFineRoots"]
DOM = ["AboveGroundVeryFastSoil", "BelowGroundVeryFastSoil", "AboveGroundFastSoil",
       "BelowGroundFastSoil", "MediumSoil", "AboveGroundSlowSoil", "BelowGroundSlowSoil",
       "SoftwoodStemSnag", "SoftwoodBranchSnag", "HardwoodStemSnag", "HardwoodBranchSnag"]


def _reference(*parts: str):
    return shared_path("data", "gcbm-reference", *parts)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    results_db = _reference("run", "output", "gcbm_output.db")
    return compile_results(results_db, tmp_path_factory.mktemp("compiled") / "compiled.db")


def _table(path, table: str) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    with sqlite3.connect(path) as connection:
        declared = [(row[1], row[2]) for row in connection.execute(
            "SELECT * FROM pragma_table_info(?)", (table,))]
        frame = pd.read_sql_query(f'SELECT * FROM "{table}"', connection)
    connection.close()
    return frame, declared


@pytest.mark.parametrize("table", sorted(LAYOUTS))
def test_compiled_table_equals_compile_results_reference(compiled, table):
    assert_compiled_table_equals_reference(compiled, table)


def assert_compiled_table_equals_reference(compiled, table: str, rtol: float = DB_RTOL) -> None:
    """Same columns and types; rows matched by their key columns; values within `rtol`."""
    expected, expected_columns = _table(_reference("run", "compiled_simulation_output.db"), table)
    actual, actual_columns = _table(compiled, table)
    assert actual_columns == expected_columns
    keys = [name for name in expected.columns if name not in VALUE_COLUMNS]
    assert not expected.duplicated(keys).any(), "reference rows must be unique by their keys"
    assert not actual.duplicated(keys).any()
    assert len(actual) == len(expected)
    matched = expected.merge(actual, on=keys, how="outer", suffixes=("", "_ours"), indicator=True)
    unmatched = matched[matched["_merge"] != "both"]
    assert unmatched.empty, f"rows only on one side:\n{unmatched.head(10)}"
    for name in expected.columns.intersection(VALUE_COLUMNS):
        np.testing.assert_allclose(matched[f"{name}_ours"].astype(float),
                                   matched[name].astype(float), rtol=rtol, atol=0,
                                   err_msg=f"{table}.{name}")


def test_reference_has_every_table_we_write(compiled):
    with sqlite3.connect(_reference("run", "compiled_simulation_output.db")) as connection:
        names = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    connection.close()
    assert names == set(LAYOUTS)


def test_landscape_sums_equal_indicators_by_year(compiled):
    expected = pd.read_csv(_reference("indicators_by_year.csv"))
    value = {"v_pool_indicators": "pool_tc"}
    sums = []
    for view in expected["view"].unique():
        frame, _ = _table(compiled, view)
        sums.append(frame.groupby(["year", "indicator"], as_index=False)[value.get(view, "flux_tc")]
                    .sum().set_axis(["year", "indicator", "value_tC"], axis=1).assign(view=view))
    matched = expected.merge(pd.concat(sums), on=["view", "year", "indicator"], how="outer",
                             suffixes=("", "_ours"), indicator=True)
    assert (matched["_merge"] == "both").all(), matched[matched["_merge"] != "both"]
    np.testing.assert_allclose(matched["value_tC_ours"], matched["value_tC"], rtol=CSV_RTOL,
                               atol=0)


def _indicator(view: str, name: str) -> pd.Series:
    frame = pd.read_csv(_reference("indicators_by_year.csv"))
    rows = frame[(frame["view"] == view) & (frame["indicator"] == name)]
    return rows.set_index("year")["value_tC"]


@pytest.mark.parametrize(("column", "view", "indicator"), [
    ("npp_tc_per_yr", "v_stock_change_indicators", "NPP"),
    ("rh_tc_per_yr", "v_stock_change_indicators", "Decomposition Releases"),
    ("nep_tc_per_yr", "v_stock_change_indicators", "NEP"),
    ("nbp_tc_per_yr", "v_stock_change_indicators", "NBP"),
    ("total_ecosystem_tc", "v_pool_indicators", "Total Ecosystem"),
    ("total_biomass_tc", "v_pool_indicators", "Total Biomass"),
    ("soil_tc", "v_pool_indicators", "Soil Carbon"),
    ("co2_emissions_tc_per_yr", "v_stock_change_indicators", "Total CO2 Emissions"),
    ("ch4_emissions_tc_per_yr", "v_stock_change_indicators", "Total CH4 Emissions"),
    ("co_emissions_tc_per_yr", "v_stock_change_indicators", "Total CO Emissions"),
])
def test_annual_summary_equals_reference_indicator(compiled, column, view, indicator):
    summary = annual_summary(compiled).set_index("year")
    expected = _indicator(view, indicator).reindex(summary.index, fill_value=0.0)
    np.testing.assert_allclose(summary[column], expected, rtol=CSV_RTOL, atol=0)


def test_annual_summary_stocks_equal_reference_pool_totals(compiled):
    """Stocks against the raw output's pool totals (an extract independent of CompileResults)."""
    summary = annual_summary(compiled).set_index("year")
    pools = pd.read_csv(_reference("pool_totals_by_year_wide.csv")).set_index("year")
    pools = pools.loc[summary.index]
    np.testing.assert_allclose(summary["total_biomass_tc"], pools[LIVE].sum(axis=1), rtol=CSV_RTOL)
    np.testing.assert_allclose(summary["dead_organic_matter_tc"], pools[DOM].sum(axis=1),
                               rtol=CSV_RTOL)
    np.testing.assert_allclose(summary["total_ecosystem_tc"], pools[LIVE + DOM].sum(axis=1),
                               rtol=CSV_RTOL)
    np.testing.assert_allclose(summary["area_ha"], pools["area_ha"], rtol=CSV_RTOL)


def test_annual_summary_disturbed_areas_equal_reference(compiled):
    summary = annual_summary(compiled).set_index("year")
    expected = pd.read_csv(_reference("disturbed_area_by_year.csv"))
    expected = expected.pivot_table(index="year", columns="disturbance_type", values="area_ha",
                                    aggfunc="sum").reindex(summary.index).fillna(0.0)
    actual = summary.filter(like="disturbed_area_ha[")
    assert sorted(actual.columns) == sorted(f"disturbed_area_ha[{t}]" for t in expected.columns)
    for name in expected.columns:
        np.testing.assert_allclose(actual[f"disturbed_area_ha[{name}]"], expected[name],
                                   rtol=CSV_RTOL, atol=0)


def test_annual_summary_matches_the_reference_readme(compiled):
    """The figures quoted (to 0.01) in the reference README."""
    summary = annual_summary(compiled).set_index("year")
    np.testing.assert_allclose(summary.loc[2010, "npp_tc_per_yr"], 854.65, atol=0.005)
    np.testing.assert_allclose(summary.loc[[2010, 2020], "total_ecosystem_tc"],
                               [66_367.53, 52_199.95], atol=0.005)
    np.testing.assert_allclose(summary.loc[[2010, 2012, 2020], "nbp_tc_per_yr"],
                               [-299.87, -3_077.96, -537.38], atol=0.005)


def test_annual_summary_is_the_same_from_results_and_compiled_databases(compiled):
    from_compiled = annual_summary(compiled)
    from_results = annual_summary(_reference("run", "output", "gcbm_output.db"))
    from_reference = annual_summary(_reference("run", "compiled_simulation_output.db"))
    pd.testing.assert_frame_equal(from_results, from_compiled)
    pd.testing.assert_frame_equal(from_reference, from_compiled, rtol=DB_RTOL, atol=0)
