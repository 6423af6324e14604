"""Compiling small synthetic results databases whose indicators can be worked out by hand."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pandas as pd
import pytest

from flintcloud.gcbm.outputs.compiled import (
    annual_summary,
    compile_results,
    compile_tables,
    write_compiled_db,
    write_summary_csv,
    write_summary_json,
)
from flintcloud.gcbm.outputs.results_db import read_results
from tests.conftest import shared_path
from tests.gcbm.outputs.results_factory import FOREST, ResultsBuilder

CROPLAND = "UNFCCC_FL_L_CL"


def _compile(builder: ResultsBuilder, tmp_path_factory) -> dict[str, pd.DataFrame]:
    """Write the results db, compile it to a file, and read every table back."""
    tmp_path = tmp_path_factory.mktemp("compile")
    compiled = compile_results(builder.write(tmp_path / "gcbm_output.db"), tmp_path / "out.db")
    with sqlite3.connect(compiled) as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
        tables = {name: pd.read_sql_query(f'SELECT * FROM "{name}"', connection)
                  for name in names}
    connection.close()
    return tables


def _value(table: pd.DataFrame, column: str, **where) -> float:
    """The single value of `column` in the row matching `where` (None matches NULL)."""
    is_row = np.ones(len(table), dtype=bool)
    for name, wanted in where.items():
        is_row &= table[name].isna() if wanted is None else table[name] == wanted
    assert is_row.sum() == 1, f"{is_row.sum()} rows match {where}"
    return table.loc[is_row, column].item()


def _indicator_rows(table: pd.DataFrame, name: str) -> pd.DataFrame:
    return table[table["indicator"] == name]


# --- an extra classifier, NULL classifier values, spinup excluded ----------------------------

@pytest.fixture(scope="module")
def three_classifiers(tmp_path_factory):
    b = ResultsBuilder(classifiers=("Species", "Site", "Owner"))
    spinup = b.location(0, ("BS", "5", "crown"), area=10.0)
    b.pools(spinup, SoftwoodMerch=99.0)
    crown = b.location(2010, ("BS", "5", "crown"), area=10.0)
    private = b.location(2010, ("BS", "5", "private"), area=4.0)
    unknown = b.location(2010, ("BS", "5", None), area=1.0)
    b.pools(crown, SoftwoodMerch=100.0, MediumSoil=30.0)
    b.pools(private, SoftwoodMerch=40.0, MediumSoil=12.0)
    b.pools(unknown, SoftwoodMerch=5.0)
    b.flux(crown, "Atmosphere", "SoftwoodMerch", 3.0)
    b.flux(crown, "Atmosphere", "SoftwoodFineRoots", 1.0)
    b.flux(private, "Atmosphere", "SoftwoodMerch", 2.0)
    return _compile(b, tmp_path_factory)


def test_extra_classifier_becomes_a_column_of_every_keyed_table(three_classifiers):
    for name, table in three_classifiers.items():
        if not name.endswith("_density"):
            assert {"Species", "Site", "Owner"} <= set(table.columns), name
    disturbance_columns = three_classifiers["v_disturbance_fluxes"].columns
    assert {"Species_previous", "Site_previous", "Owner_previous"} <= set(disturbance_columns)


def test_extra_classifier_splits_pool_indicators(three_classifiers):
    pools = three_classifiers["v_pool_indicators"]
    assert set(pools["year"]) == {2010}  # year 0 (spinup) is not reported
    total = _indicator_rows(pools, "Total Ecosystem")
    assert _value(total, "pool_tc", Owner="crown") == 130.0
    assert _value(total, "pool_tc", Owner="private") == 52.0
    assert _value(total, "pool_tc", Owner=None) == 5.0  # NULL classifier values form one group
    assert _value(_indicator_rows(pools, "Total Biomass"), "pool_tc", Owner="crown") == 100.0
    assert _value(total, "age_range", Owner="crown") == "20-39"


def test_extra_classifier_splits_fluxes_and_stock_changes(three_classifiers):
    npp = _indicator_rows(three_classifiers["v_stock_change_indicators"], "NPP")
    assert len(npp) == 2  # the NULL owner has no fluxes, so no row
    assert _value(npp, "flux_tc", Owner="crown") == 4.0  # 3 aboveground + 1 belowground
    assert _value(npp, "flux_tc", Owner="private") == 2.0
    fluxes = three_classifiers["v_flux_indicators"]
    assert _value(_indicator_rows(fluxes, "GrossGrowth_BG"), "flux_tc", Owner="crown") == 1.0
    density = _indicator_rows(three_classifiers["v_stock_change_indicators_density"], "NPP")
    assert _value(density, "flux_tc", year=2010) == 6.0
    assert _value(density, "flux_tc_per_ha", year=2010) == pytest.approx(6.0 / 15.0, rel=1e-15)


def test_extra_classifier_age_areas(three_classifiers):
    ages = three_classifiers["v_age_indicators"]
    assert sorted(ages["area"]) == [1.0, 4.0, 10.0]
    assert set(ages["year"]) == {2010}


# --- a disturbance that changes the land class -----------------------------------------------

@pytest.fixture(scope="module")
def deforestation(tmp_path_factory):
    b = ResultsBuilder()
    forest_2010 = b.location(2010, ("TA", "7"), area=3.0, age="40-59")
    b.location(2011, ("TA", "7"), area=1.0, age="40-59")
    cropland = b.location(2011, ("TA", "7"), area=2.0, age="N/A", land_class=CROPLAND)
    event = b.disturbance(cropland, forest_2010, 7, "Deforestation", area=2.0)
    b.flux(cropland, "SoftwoodMerch", "Products", 20.0, disturbance=event)
    b.flux(cropland, "SoftwoodFoliage", "CO2", 5.0, disturbance=event)
    return _compile(b, tmp_path_factory)


def test_land_class_change_in_disturbance_tables(deforestation):
    labels = {"Species": "TA", "Site": "7", "Species_previous": "TA", "Site_previous": "7",
              "unfccc_land_class": CROPLAND, "unfccc_land_class_previous": FOREST, "year": 2011,
              "disturbance_code": 7, "disturbance_type": "Deforestation"}
    areas = deforestation["v_total_disturbed_areas"]
    assert _value(areas, "dist_area", **labels) == 2.0 and len(areas) == 1
    indicators = deforestation["v_disturbance_indicators"]
    row = dict(pre_dist_age_range="40-59", post_dist_age_range="N/A", **labels)
    assert _value(indicators, "dist_area", **row) == 2.0
    assert _value(indicators, "dist_carbon", **row) == 25.0
    assert _value(indicators, "dist_carbon_per_ha", **row) == 12.5
    fluxes = deforestation["v_disturbance_fluxes"]
    assert _value(fluxes, "flux_tc", from_pool="SoftwoodMerch", to_pool="Products", **row) == 20.0
    assert _value(fluxes, "flux_tc", from_pool="SoftwoodFoliage", to_pool="CO2", **row) == 5.0
    assert len(fluxes) == 2


def test_land_class_change_in_flux_pool_and_age_tables(deforestation):
    fluxes = deforestation["v_flux_indicators"]
    production = _indicator_rows(fluxes, "SoftProduction")
    assert _value(production, "flux_tc", unfccc_land_class=CROPLAND, age_range="N/A",
                  disturbance_code=7, disturbance_type="Deforestation") == 20.0
    assert _value(_indicator_rows(fluxes, "BioCO2Emission"), "flux_tc", year=2011) == 5.0
    ages = deforestation["v_age_indicators"]
    assert _value(ages, "area", year=2011, unfccc_land_class=CROPLAND, age_range="N/A") == 2.0
    assert _value(ages, "area", year=2011, unfccc_land_class=FOREST, age_range="40-59") == 1.0
    harvest = _indicator_rows(deforestation["v_stock_change_indicators"], "Total Harvest (Biomass)")
    assert _value(harvest, "flux_tc", unfccc_land_class=CROPLAND) == 20.0


# --- a harvest that sends carbon to Products ---------------------------------------------------

def _harvest() -> ResultsBuilder:
    b = ResultsBuilder()
    before = b.location(2010, ("JP", "6"), area=2.0, age="60-79")
    after = b.location(2011, ("JP", "6"), area=2.0, age="0-19")
    b.pools(before, SoftwoodMerch=80.0)
    b.pools(after, SoftwoodMerch=40.0)
    event = b.disturbance(after, before, 4, "Clearcut harvesting with salvage", area=2.0)
    b.flux(after, "Atmosphere", "SoftwoodMerch", 10.0)  # growth
    b.flux(after, "MediumSoil", "CO2", 1.0)  # decay
    for src, dst, value in [("SoftwoodMerch", "Products", 50.0),
                            ("SoftwoodStemSnag", "Products", 5.0),
                            ("MediumSoil", "Products", 2.0),  # non-snag DOM to Products
                            ("SoftwoodFoliage", "AboveGroundVeryFastSoil", 3.0),
                            ("SoftwoodOther", "CO2", 4.0)]:
        b.flux(after, src, dst, value, disturbance=event)
    return b


@pytest.fixture(scope="module")
def harvest(tmp_path_factory):
    return _compile(_harvest(), tmp_path_factory)


@pytest.mark.parametrize(("indicator", "expected"), [
    ("NPP", 10.0),
    ("NEP", 10.0 - 1.0),
    # gcbm-spec.md §6.3: the compiled NBP subtracts all production, DOM to Products included.
    ("NBP", 10.0 - (50.0 + 5.0 + 2.0) - (4.0 + 1.0)),
    ("Delta Total Ecosystem", 10.0 - (4.0 + 1.0 + 50.0 + 7.0)),
    ("Delta Total Biomass", 10.0 - (4.0 + 50.0 + 3.0)),
    ("Delta Total DOM", 3.0 - (1.0 + 7.0)),
    ("Total Harvest (Biomass + Snags)", 57.0),
    ("Total Harvest (Biomass)", 50.0),
    ("Total Harvest (Snags)", 7.0),
    ("Softwood Harvest (Biomass)", 50.0),
    ("Disturbance Losses", 4.0 + 57.0),
    ("Rh", 1.0),
    ("Total Emissions", 5.0),
    ("Total CO2 Emissions", 5.0),
    ("Total Detrital Transfers", 3.0),
])
def test_harvest_stock_changes(harvest, indicator, expected):
    rows = _indicator_rows(harvest["v_stock_change_indicators"], indicator)
    assert _value(rows, "flux_tc", year=2011, age_range="0-19") == expected


def test_harvest_flux_indicators_split_by_category(harvest):
    fluxes = harvest["v_flux_indicators"]
    assert _value(_indicator_rows(fluxes, "SnagToProducts"), "flux_tc",
                  disturbance_type="Clearcut harvesting with salvage") == 5.0
    assert _value(_indicator_rows(fluxes, "DOMProduction"), "flux_tc", year=2011) == 7.0
    assert _value(_indicator_rows(fluxes, "DOMCO2Emission - Annual Process"), "flux_tc",
                  disturbance_code=None) == 1.0
    # Upstream keeps only positive sums: no hardwood, so no HardProduction row at all.
    assert _indicator_rows(fluxes, "HardProduction").empty
    assert _indicator_rows(fluxes, "DOMCO2Emission - Disturbance").empty
    assert _indicator_rows(harvest["v_stock_change_indicators"],
                           "Hardwood Harvest (Biomass)").empty


def test_harvest_disturbance_indicators(harvest):
    row = _value(harvest["v_disturbance_indicators"], "dist_carbon", year=2011,
                 pre_dist_age_range="60-79", post_dist_age_range="0-19")
    assert row == 50.0 + 5.0 + 2.0 + 3.0 + 4.0


def test_harvest_annual_summary_from_the_results_db(tmp_path):
    summary = annual_summary(_harvest().write(tmp_path / "gcbm_output.db")).set_index("year")
    assert summary.loc[2011, "nbp_tc_per_yr"] == -52.0
    assert summary.loc[2011, "npp_tc_per_yr"] == 10.0
    assert summary.loc[2010, "npp_tc_per_yr"] == 0.0  # no fluxes in 2010
    assert summary.loc[2011, "disturbed_area_ha[Clearcut harvesting with salvage]"] == 2.0
    assert summary.loc[2010, "total_biomass_tc"] == 80.0


def test_summary_and_views_compiled_in_parts_equal_compiled_whole(tmp_path):
    db = _harvest().write(tmp_path / "gcbm_output.db")
    whole = compile_tables(db)
    flux = [name for name in whole.tables if name.startswith("v_flux") or
            name.startswith("v_stock_change")]
    parts = compile_tables(db, views=flux).merge(
        compile_tables(db, views=[name for name in whole.tables if name not in flux]))
    assert list(parts.tables) == list(whole.tables)
    for name, frame in whole.tables.items():
        pd.testing.assert_frame_equal(parts.tables[name], frame)
    written = write_compiled_db(whole, tmp_path / "compiled.db")
    pd.testing.assert_frame_equal(annual_summary(parts), annual_summary(written))


# --- errors ------------------------------------------------------------------------------------

def test_error_rows_sum_reported_area_and_keep_unlocated_errors(tmp_path_factory):
    b = ResultsBuilder()
    young = b.location(2010, ("BS", "5"), area=3.0, age="20-39")
    older = b.location(2010, ("BS", "5"), area=2.0, age="40-59")
    other = b.location(2010, ("WS", "6"), area=7.0)
    b.error("CBMGrowthModule", "no growth curve", young, older, other)
    b.error("CBMDecayModule", "not attached to a location")
    errors = _compile(b, tmp_path_factory)["v_error_indicators"]
    assert len(errors) == 3
    growth = {"module": "CBMGrowthModule", "error": "no growth curve", "year": 2010}
    assert _value(errors, "area", Species="BS", Site="5", **growth) == 5.0  # both age classes
    assert _value(errors, "area", Species="WS", Site="6", **growth) == 7.0
    assert pd.isna(_value(errors, "area", module="CBMDecayModule", year=None, Species=None))


# --- upstream details --------------------------------------------------------------------------

def test_negative_sums_are_dropped_and_idle_years_have_a_density_row(tmp_path_factory):
    b = ResultsBuilder()
    shrinking = b.location(2010, ("BS", "5"), area=1.0)
    b.location(2011, ("BS", "5"), area=1.0)
    b.flux(shrinking, "Atmosphere", "SoftwoodOther", -0.5)  # a negative growth increment
    tables = _compile(b, tmp_path_factory)
    assert tables["v_flux_indicators"].empty  # HAVING SUM(...) > 0
    density = tables["v_flux_indicators_density"]
    assert density["indicator"].isna().all()
    assert density["year"].tolist() == [2010, 2011]
    assert (density[["flux_tc", "flux_tc_per_ha"]] == 0.0).all().all()


def test_compiling_does_not_depend_on_row_order():
    results = read_results(shared_path("data", "gcbm-reference", "run", "output",
                                       "gcbm_output.db"))
    rng = np.random.default_rng(1234)
    shuffled = results.__class__(**{
        **results.__dict__,
        **{name: getattr(results, name).sample(frac=1.0, random_state=rng).reset_index(drop=True)
           for name in ("Fluxes", "Pools", "LocationDimension", "AgeArea",
                        "DisturbanceDimension")}})
    expected = compile_tables(results).tables
    actual = compile_tables(shuffled).tables
    for name, table in expected.items():
        # Same rows; values are the same float64 terms summed in another order, which moves
        # the last bits, and more where a stock change cancels (seen: 2e-12 relative): the
        # reference comparison's 1e-9.
        pd.testing.assert_frame_equal(actual[name], table, rtol=1e-9, atol=0, obj=name)


def test_error_area_is_the_area_of_the_whole_reporting_group(tmp_path_factory):
    """Upstream's r_location carries the area summed over equal labels (r_stand_area), so a
    location whose labels repeat under another classifier-set id reports the sum of both."""
    b = ResultsBuilder()
    first = b.location(2010, ("BS", "5"), area=3.0)
    b.rows["ClassifierSetDimension"].append({"id": 2, "Species": "BS", "Site": "5"})
    b.rows["LocationDimension"].append({**b.rows["LocationDimension"][0], "id": 2,
                                        "classifierSetDimId": 2, "area": 2.0})
    b.error("CBMGrowthModule", "no growth curve", first)
    errors = _compile(b, tmp_path_factory)["v_error_indicators"]
    assert _value(errors, "area", Species="BS", year=2010) == 5.0


def test_summary_writers_round_trip(tmp_path):
    summary = annual_summary(_harvest().write(tmp_path / "gcbm_output.db"))
    csv = pd.read_csv(write_summary_csv(summary, tmp_path / "summary.csv"))
    pd.testing.assert_frame_equal(csv, summary, check_exact=True)
    records = json.loads(write_summary_json(summary, tmp_path / "summary.json").read_text())
    pd.testing.assert_frame_equal(pd.DataFrame(records), summary, check_exact=True)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "gcbm_output.db", "summary.csv", "summary.json"]  # no temporary files left
