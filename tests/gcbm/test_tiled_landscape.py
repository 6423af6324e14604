"""The benchmark's national landscape generator makes what it says: tiles indexed as FLINT
does, 0.01° cells in blocks of 10 × 10, the pixel and block counts it reports as the engine
reads them, no two pixels of a block alike, and the demo's share of disturbed cells."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
import rasterio

from benchmarks.landscapes import tiled_landscape
from flintcloud.gcbm import run as gcbm_run
from flintcloud.gcbm.project.blocks import BlockReader
from flintcloud.gcbm.project.config import open_project
from flintcloud.gcbm.project.parameters import load_parameters
from flintcloud.gcbm.project.rasters import block_windows
from flintcloud.gcbm.run import run_project
from flintcloud.gcbm.science import results
from flintcloud.gcbm.science.simulation import distinct_stands
from tests.gcbm.conftest import demo_zip


@pytest.fixture(scope="module")
def landscape(tmp_path_factory):
    """2 × 1 tiles of 1°, 1,500 simulated pixels in about 40 blocks."""
    return tiled_landscape(demo_zip(), tmp_path_factory.mktemp("tiles") / "project",
                           tiles=(2, 1), pixels=1_500, blocks=40)


def test_the_tiles_and_grid_are_a_national_project_s(landscape):
    with open_project(landscape.root) as project:
        assert [(tile.x, tile.y, tile.index) for tile in project.tiles] == \
            [(-109, 57, 33 * 360 + 71), (-108, 57, 33 * 360 + 72)]
        assert project.grid.cell_lat == project.grid.cell_lon == 0.01
        assert project.grid.cells_per_block == (10, 10)
        assert project.grid.blocks_per_tile == (10, 10)
    domain = json.loads((landscape.root / "config" / "localdomain.json").read_text())
    assert domain["LocalDomain"]["landscape"]["x_pixels"] == 100


def test_the_engine_reads_the_counts_it_reports_and_no_two_pixels_alike(landscape):
    assert landscape.tiles == 2
    assert landscape.pixels == 1_500  # the forest is the country's top 1,500 cells
    assert landscape.blocks == 40  # the country's threshold bisected on blocks
    with open_project(landscape.root) as project:
        library = load_parameters(project)
        reader = BlockReader(project, library)
        try:
            blocks = [data for tile in project.tiles
                      for window in block_windows(tile, project.grid)
                      if (data := reader.read(window)) is not None]
        finally:
            reader.close()
            library.db.close()
    assert len(blocks) == landscape.blocks
    assert sum(data.cell_index.size for data in blocks) == landscape.pixels
    for data in blocks:
        stands, _ = distinct_stands(data.inputs)
        assert stands.n == data.inputs.n  # per-pixel temperature offsets and ages
    strata = {classifier_set for data in blocks for classifier_set in data.parameters.classifier_sets}
    assert len(strata) > 1  # the demo's strata in patches


def test_disturbed_cells_keep_the_demo_s_share(landscape):
    def share(folder, name):
        with rasterio.open(next(folder.glob(f"**/layers/tiled/{name}.tiff"))) as events, \
                rasterio.open(next(folder.glob("**/layers/tiled/Classifier1.tiff"))) as mask:
            simulated = mask.read(1) != mask.nodata
            return float(np.mean(events.read(1)[simulated] != events.nodata))

    with zipfile.ZipFile(demo_zip()) as zipped:
        folder = landscape.root.parent / "demo"
        zipped.extractall(folder)
    for year in (2011, 2013, 2018):
        name = f"disturbances_{year}"
        assert share(landscape.root, name) == pytest.approx(share(folder, name), abs=1e-3)
        assert share(landscape.root, name) > 0


def test_the_engine_runs_it_and_merges_its_blocks_as_labelling_each_would(tmp_path,
                                                                         monkeypatch):
    made = tiled_landscape(demo_zip(), tmp_path / "project", tiles=(1, 1), pixels=200, blocks=8)
    parts = []

    def recorded(blocks, *args):  # type: ignore[no-untyped-def]
        parts.append((blocks, args))
        return results.merge(blocks, *args)

    monkeypatch.setattr(gcbm_run, "merge", recorded)
    run = run_project(made.root)
    assert (run.n_pixels, run.n_blocks_simulated, run.n_blocks) == (made.pixels, made.blocks,
                                                                     100)
    # 0.01° cells near 56.5°N: about 1.113 km × 0.61 km each
    assert run.area_ha / made.pixels == pytest.approx(69, rel=0.03)
    # merging in codes first gives the bits of labelling every block's rows and summing them
    [(blocks, args)] = parts
    assert len(blocks) == made.blocks
    each = [results.merge([block], *args) for block in blocks]  # one block: labelled as is
    for table, value in (("locations", "area_ha"), ("pools", "value_tc"),
                         ("fluxes", "value_tc"), ("disturbances", "area_ha")):
        rows = pd.concat([getattr(one, table) for one in each], ignore_index=True)
        keys = [column for column in rows.columns if column != value]
        labelled = rows.groupby(keys, sort=True, dropna=False)[value].sum().reset_index()
        pd.testing.assert_frame_equal(getattr(run.results, table), labelled, check_exact=True)
    assert len(run.results.fluxes) > 0 and len(run.results.disturbances) > 0
