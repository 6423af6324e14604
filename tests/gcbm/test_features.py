"""Projects that use GCBM features the demo does not, against real GCBM's outputs of the same
projects (../shared/data/gcbm-features: what each one changes is in its README)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flintcloud.gcbm.run import run_gcbm
from tests.conftest import shared_path
from tests.gcbm.outputs.test_results_db import _facts, _read

FEATURES = ("data", "gcbm-features")
PROJECTS = ["multi_spu", "land_class_change", "transition_rules", "mixed_stands",
            "growth_multipliers", "disturbance_order"]


@pytest.fixture(scope="module", params=PROJECTS)
def feature_run(request, tmp_path_factory):
    """(our output folder, the reference folder) of one feature project, run once."""
    reference = shared_path(*FEATURES, request.param)
    output = tmp_path_factory.mktemp(request.param)
    run_gcbm(reference / "project.zip", output, mosaics=False)
    return output, reference


def test_feature_pool_totals_match_gcbm(feature_run):
    ours, reference = (pd.read_csv(folder / "pool_totals_by_year.csv") for folder in feature_run[::-1])
    merged = ours.merge(reference, on=["year", "step", "pool"], suffixes=("_our", "_ref"),
                        how="outer", indicator=True)
    assert (merged._merge == "both").all(), merged[merged._merge != "both"].to_string()
    np.testing.assert_allclose(merged.total_tC_our, merged.total_tC_ref, rtol=1e-6, atol=0)
    np.testing.assert_allclose(merged.area_ha_our, merged.area_ha_ref, rtol=1e-9)


def test_feature_fluxes_match_gcbm(feature_run):
    keys = ["year", "module", "disturbance_type", "source_pool", "sink_pool"]
    ours, reference = (pd.read_csv(folder / "fluxes_by_year.csv").fillna({"disturbance_type": ""})
                       for folder in feature_run[::-1])
    merged = ours.merge(reference, on=keys, suffixes=("_our", "_ref"), how="outer",
                        indicator=True)
    assert (merged._merge == "both").all(), merged[merged._merge != "both"].head(20).to_string()
    np.testing.assert_allclose(merged.flux_tC_our, merged.flux_tC_ref, rtol=1e-6, atol=0)


@pytest.mark.parametrize("table", ["Pools", "Fluxes"])
def test_feature_results_db_matches_gcbm(feature_run, table):
    """Pools and Fluxes by classifier set (with any extra reporting columns), year, land class
    and age class, within 1e-9 relative; libraryInfoId is not deterministic in GCBM."""
    output, reference = feature_run
    ours = _read(output / "gcbm_output.db")
    theirs = _read(reference / "output" / "gcbm_output.db")
    assert list(ours["ClassifierSetDimension"].columns) == \
        list(theirs["ClassifierSetDimension"].columns)
    for tables in (ours, theirs):
        tables["ModuleInfoDimension"] = tables["ModuleInfoDimension"].drop(columns="libraryInfoId")
    frame, keys, value = _facts(ours)[table]
    expected = _facts(theirs)[table][0]
    assert len(frame) == len(expected)
    merged = expected[[*keys, value]].merge(frame[[*keys, value]], on=keys, how="outer",
                                            suffixes=("_gcbm", "_ours"), indicator=True)
    unmatched = merged[merged["_merge"] != "both"]
    assert unmatched.empty, unmatched.head(10).to_string()
    np.testing.assert_allclose(merged[f"{value}_ours"], merged[f"{value}_gcbm"], rtol=1e-9,
                               atol=0)
