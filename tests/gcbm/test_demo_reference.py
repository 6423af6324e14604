"""The demo against the real C++ GCBM's outputs (../shared/data/gcbm-reference)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flintcloud.models.gcbm.pools import POOL_NAMES
from tests.conftest import shared_path
from tests.gcbm.conftest import REFERENCE

# Atmosphere and CO2 accumulate ~4,000 spinup years (|value| up to 8,500 tC/ha), the other
# pools are stocks; see test_stratum_cumulative_sinks.
CUMULATIVE = ("Atmosphere", "CO2")


@pytest.fixture(scope="module")
def strata_pools(demo_run):
    """Our per-ha pools of one pixel of each reference stratum, from the demo run's per-pixel
    results (steps 0-11), keyed by stratum."""
    from flintcloud.runner.gcbm import run_project
    from tests.gcbm.conftest import demo_zip

    pixels = pd.read_csv(shared_path(*REFERENCE, "per_stratum", "pixel_area_and_stratum_block51.csv.gz"))
    first = pixels.groupby("stratum").first().reset_index()
    captured = {}

    def on_block(result):
        n_cols = result.window.n_cols
        cells = result.data.cell_index
        for row in first.itertuples():
            i = int(np.flatnonzero(cells == row.block_row * n_cols + row.block_col)[0])
            stand = result.stand_of_pixel[i]
            captured[row.stratum] = (result.trajectory.pools[:, :, stand],
                                     result.trajectory.age[:, stand], result.data.area_ha[i],
                                     row.area_ha)

    run_project(demo_zip(), on_block=on_block)
    return captured


def _reference_strata():
    return pd.read_csv(shared_path(*REFERENCE, "per_stratum", "stratum_pools_tC_per_ha_by_step.csv"))


def test_stratum_pools_match_gcbm(strata_pools):
    """28 stock pools of all 10 strata, steps 0-11, within 1e-6 tC/ha; ages identical."""
    reference = _reference_strata()
    assert sorted(strata_pools) == sorted(reference.stratum.unique())
    for stratum, (pools, age, _, _) in strata_pools.items():
        expected = reference[reference.stratum == stratum].sort_values("step")
        np.testing.assert_array_equal(age, expected.age.to_numpy())
        for index, name in enumerate(POOL_NAMES):
            if name in CUMULATIVE:
                continue
            np.testing.assert_allclose(pools[:, index], expected[name].to_numpy(), rtol=0,
                                       atol=1e-6, err_msg=f"stratum {stratum} pool {name}")


@pytest.mark.xfail(strict=True, reason="Atmosphere/CO2 differ by up to 8e-6 tC/ha (1e-9 "
                   "relative) after ~4,000 spinup years: the smoother's fit (scipy leastsq vs "
                   "GCBM's lmmin) differs at ~1e-9; see docs/benchmarks.md and the issue report")
def test_stratum_cumulative_sinks(strata_pools):
    reference = _reference_strata()
    for stratum, (pools, _, _, _) in strata_pools.items():
        expected = reference[reference.stratum == stratum].sort_values("step")
        for name in CUMULATIVE:
            np.testing.assert_allclose(pools[:, POOL_NAMES.index(name)], expected[name].to_numpy(),
                                       rtol=0, atol=1e-6)


def test_stratum_cumulative_sinks_relative(strata_pools):
    """What does hold for the cumulative sinks: 1e-8 relative to their magnitude."""
    reference = _reference_strata()
    for stratum, (pools, _, _, _) in strata_pools.items():
        expected = reference[reference.stratum == stratum].sort_values("step")
        for name in CUMULATIVE:
            np.testing.assert_allclose(pools[:, POOL_NAMES.index(name)], expected[name].to_numpy(),
                                       rtol=1e-8)


def test_pixel_area_matches_gcbm(strata_pools):
    for stratum, (_, _, area, reference_area) in strata_pools.items():
        assert area == pytest.approx(reference_area, rel=1e-12), stratum


def test_landscape_pool_totals_match_gcbm(demo_run):
    reference = pd.read_csv(shared_path(*REFERENCE, "pool_totals_by_year.csv"))
    ours = demo_run.results.pool_totals_by_year()
    merged = reference.merge(ours, on=["year", "step", "pool"], suffixes=("_ref", "_our"),
                             validate="one_to_one")
    assert len(merged) == len(reference) == len(ours)
    np.testing.assert_allclose(merged.total_tC_our, merged.total_tC_ref, rtol=1e-6)
    np.testing.assert_allclose(merged.area_ha_our, merged.area_ha_ref, rtol=1e-9)
    assert demo_run.n_pixels == 11347


def test_landscape_fluxes_match_gcbm(demo_run):
    """Fluxes by year, module, disturbance type, source and sink within 1e-6 relative.

    Rows below 1e-12 tC on both sides are rounding residue of pools that are 0 in exact
    arithmetic (e.g. 4e-16 tC of a 2013 MPB transfer) and are ignored; each flux is compared
    with rtol 1e-6 and an absolute floor of 1e-9 of that year's total absolute flux, which
    covers the four fluxes (< 0.01 tC) out of 745 that differ by 2.4e-6 relative.
    """
    reference = pd.read_csv(shared_path(*REFERENCE, "fluxes_by_year.csv")).fillna({"disturbance_type": ""})
    ours = demo_run.results.fluxes_by_year()
    keys = ["year", "module", "disturbance_type", "source_pool", "sink_pool"]
    merged = reference.merge(ours, on=keys, how="outer", suffixes=("_ref", "_our")).fillna(
        {"flux_tC_ref": 0.0, "flux_tC_our": 0.0})
    merged = merged[(merged.flux_tC_ref.abs() > 1e-12) | (merged.flux_tC_our.abs() > 1e-12)]
    assert len(merged) >= 745
    scale = merged.groupby("year").flux_tC_ref.transform(lambda s: s.abs().sum())
    error = (merged.flux_tC_our - merged.flux_tC_ref).abs()
    allowed = 1e-6 * merged.flux_tC_ref.abs() + 1e-9 * scale
    worst = merged.assign(error=error, allowed=allowed)[error > allowed]
    assert worst.empty, worst.to_string()


def test_disturbed_area_matches_gcbm(demo_run):
    reference = pd.read_csv(shared_path(*REFERENCE, "disturbed_area_by_year.csv"))
    ours = demo_run.results.disturbances.groupby(["year", "disturbance_type"]).area_ha.sum()
    assert len(ours) == len(reference)
    for row in reference.itertuples(index=False):
        assert ours.loc[(row.year, row.disturbance_type)] == pytest.approx(row.area_ha, rel=1e-9)
