"""Modified demo projects: results stay mass-balanced and move the way the spec says."""

from __future__ import annotations

import json

import numpy as np
import rasterio

from flintcloud.gcbm.run import run_project


def _edit_json(path, edit):
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def _edit_raster(path, edit):
    with rasterio.open(path, "r+") as dataset:
        data = dataset.read(1)
        dataset.write(edit(data), 1)


def _ecosystem(run, pools):
    totals = run.results.pool_totals_by_year()
    last = totals[totals.step == totals.step.max()]
    return last[last.pool.isin(pools)].total_tC.sum()


DOM = ["AboveGroundVeryFastSoil", "BelowGroundVeryFastSoil", "AboveGroundFastSoil",
       "BelowGroundFastSoil", "MediumSoil", "AboveGroundSlowSoil", "BelowGroundSlowSoil",
       "SoftwoodStemSnag", "SoftwoodBranchSnag", "HardwoodStemSnag", "HardwoodBranchSnag"]


def test_shorter_period_runs_fewer_steps(demo_copy, demo_run):
    _edit_json(demo_copy / "localdomain.json",
               lambda d: d["LocalDomain"].update({"end_date": "2015/01/01"}))
    run = run_project(demo_copy.parent)
    assert run.n_steps == 5
    ours = run.results.pool_totals_by_year()
    full = demo_run.results.pool_totals_by_year()
    same = ours.merge(full, on=["year", "step", "pool"])
    assert len(same) == 6 * 30
    np.testing.assert_allclose(same.total_tC_x, same.total_tC_y, rtol=1e-12)


def test_warmer_means_less_dead_organic_matter(demo_copy, demo_run):
    _edit_raster(demo_copy.parent / "layers" / "tiled" / "mean_annual_temperature.tiff",
                 lambda data: np.where(data < 1e30, data + 3.0, data).astype(data.dtype))
    run = run_project(demo_copy.parent)
    assert _ecosystem(run, DOM) < _ecosystem(demo_run, DOM)


def test_older_initial_ages_are_simulated(demo_copy, demo_run):
    _edit_raster(demo_copy.parent / "layers" / "tiled" / "initial_age.tiff",
                 lambda data: np.where(data != 32767, data + 40, data).astype(data.dtype))
    run = run_project(demo_copy.parent)
    step0 = run.results.locations.query("step == 0")
    base0 = demo_run.results.locations.query("step == 0")
    mean_class = (step0.age_class * step0.area_ha).sum() / step0.area_ha.sum()
    base_class = (base0.age_class * base0.area_ha).sum() / base0.area_ha.sum()
    assert mean_class > base_class + 1.5


def test_harvest_instead_of_fire_sends_carbon_to_products(demo_copy):
    meta = demo_copy.parent / "layers" / "tiled" / "disturbances_2011.json"
    _edit_json(meta, lambda d: d["attributes"]["1"].update(
        {"disturbance_type": "Clearcut harvesting with salvage", "year": 2012}))
    run = run_project(demo_copy.parent)
    fluxes = run.results.fluxes_by_year()
    harvest = fluxes[fluxes.disturbance_type == "Clearcut harvesting with salvage"]
    assert set(harvest.year) == {2012}
    assert harvest[harvest.sink_pool == "Products"].flux_tC.sum() > 0
    assert (fluxes[(fluxes.year == 2011)].disturbance_type == "").all()


def test_other_classifier_values_pick_other_growth_curves(demo_copy, demo_run):
    # every TA stand becomes WB (another curve exists for WB,7 but not WB,5: those lose growth)
    _edit_raster(demo_copy.parent / "layers" / "tiled" / "Classifier1.tiff",
                 lambda data: np.where(data == 1, 6, data).astype(data.dtype))
    run = run_project(demo_copy.parent)
    locations = run.results.locations
    assert "TA" not in set(locations.Classifier1)
    assert run.n_pixels == demo_run.n_pixels


def test_mass_balance_violation_names_block_pixel_and_step():
    import pytest

    from flintcloud.errors import EngineInvariantError
    from flintcloud.gcbm.science.simulation import check_mass_balance

    pools = np.zeros((30, 3))
    pools[0, 2] = 1.0
    with pytest.raises(EngineInvariantError, match="tile 1 block 2: pixel 2, step 4"):
        check_mass_balance(pools, np.zeros(3), 4, "tile 1 block 2")
