"""The synthetic demo project: built from libcbm's cbm_defaults, prepared through the
description form, and it runs mass-balanced."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from flintcloud.errors import InputError
from flintcloud.gcbm.inputs.demo import write_demo_inputs, write_demo_project
from flintcloud.gcbm.run import run_project
from tests.gcbm.inputs.conftest import cbm_defaults


def test_demo_project_runs_mass_balanced(tmp_path):
    config = write_demo_project(tmp_path / "demo", n_blocks=1,
                                cbm_defaults_path=cbm_defaults())
    run = run_project(config.parent)
    assert run.n_blocks_simulated == 1 and 140_000 < run.n_pixels < 160_000
    totals = run.results.pool_totals_by_year()
    # Every pool, Atmosphere included, starts at 0: their sum stays 0 up to round-off, which
    # spinup's many rotations accumulate relative to the gross flows (|Atmosphere| ~ 1e7 tC).
    everything = totals.groupby("step")["total_tC"].sum().to_numpy()
    gross = totals.total_tC.abs().groupby(totals.step).sum().min()
    assert abs(everything[0]) < 1e-8 * gross
    np.testing.assert_allclose(everything, everything[0], rtol=0, atol=1e-12 * gross)
    disturbed = run.results.disturbances.groupby(["year", "disturbance_type"])["area_ha"].sum()
    assert [(year, kind) for year, kind in disturbed.index] == [
        (2012, "Wildfire"), (2015, "Clearcut harvesting with salvage")]
    fire = json.loads((config.parent / "layers/tiled/fire_2012.json").read_text())
    assert fire["attributes"]["1"]["year"] == 2012  # from the file name


def test_demo_inputs_are_deterministic(tmp_path):
    for name in ("a", "b"):
        write_demo_inputs(tmp_path / name, n_blocks=1, seed=7, cbm_defaults_path=cbm_defaults())
    for raster in ("LeadingSpecies", "initial_age", "fire_2012"):
        first = (tmp_path / "a/rasters" / f"{raster}.tif").read_bytes()
        assert first == (tmp_path / "b/rasters" / f"{raster}.tif").read_bytes()
    description = yaml.safe_load((tmp_path / "a/project.yaml").read_text())
    assert description["layers"]["SiteClass"]["attributes"] == {1: "G", 2: "M", 3: "P"}


def test_demo_block_count_is_bounded(tmp_path):
    with pytest.raises(InputError, match="n_blocks must be within 1..100"):
        write_demo_project(tmp_path / "demo", n_blocks=101)
