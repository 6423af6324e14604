"""A database built from cbm_defaults runs in our GCBM engine and lands near the demo's results.

The two parameter sets differ (docs/input-db-builder.md: sapling factors in BC, a few matrix
rows), so pools differ by a few percent, not by rounding.
"""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pytest

from flintcloud.gcbm.run import run_project
from flintcloud.gcbm.science.pools import POOL_NAMES
from tests.conftest import shared_path
from tests.gcbm.inputs.conftest import DEMO_ZIP

BIOMASS = [name for name in POOL_NAMES if name.startswith(("Softwood", "Hardwood"))
           and not name.endswith(("Snag",))]
ECOSYSTEM_EXTRA = ["AboveGroundVeryFastSoil", "BelowGroundVeryFastSoil", "AboveGroundFastSoil",
                   "BelowGroundFastSoil", "MediumSoil", "AboveGroundSlowSoil",
                   "BelowGroundSlowSoil", "SoftwoodStemSnag", "SoftwoodBranchSnag",
                   "HardwoodStemSnag", "HardwoodBranchSnag"]


def _totals(run, pools) -> np.ndarray:
    table = run.results.pool_totals_by_year()
    chosen = table[table.pool.isin(pools)]
    return chosen.groupby("step")["total_tC"].sum().to_numpy()


@pytest.fixture(scope="module")
def runs(built_db, tmp_path_factory):
    root = tmp_path_factory.mktemp("projects")
    with zipfile.ZipFile(shared_path(*DEMO_ZIP)) as archive:
        archive.extractall(root / "demo")
    shutil.copytree(root / "demo", root / "built")
    database = next((root / "built").glob("**/input_database/gcbm_input.db"))
    shutil.copyfile(built_db, database)
    return run_project(root / "demo"), run_project(root / "built")


def test_built_database_gives_pools_within_a_few_percent_of_the_demo(runs):
    demo, built = runs
    assert built.n_pixels == demo.n_pixels
    for pools, limit in ((BIOMASS, 0.05), (BIOMASS + ECOSYSTEM_EXTRA, 0.03)):
        ours, theirs = _totals(built, pools), _totals(demo, pools)
        relative = np.abs(ours - theirs) / theirs
        assert relative.max() < limit, relative
        assert relative.max() > 1e-6  # the parameter sets really differ
