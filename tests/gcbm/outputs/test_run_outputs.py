"""A GCBM run's files: GCBM's GeoTIFFs and per-pool rasters, COG mosaics, manifest, atomicity."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from rio_cogeo import cog_validate

from flintcloud.gcbm import run as gcbm_run
from flintcloud.gcbm.outputs.compiled.compiled_db import LAYOUTS
from flintcloud.gcbm.run import process_pool, run_gcbm
from flintcloud.io.manifest import sha256_of
from tests.conftest import shared_path
from tests.gcbm.conftest import REFERENCE, demo_zip
from tests.gcbm.outputs.test_compiled_reference import assert_compiled_table_equals_reference
from tests.io.test_tiled_tiff import expected_overview

# GeoTIFFs hold float32 (or Int16) copies of per-hectare values the engine matches to 1e-6 tC/ha;
# a float32 cast adds at most half an ulp on top
F32_RTOL, ATOL = 2.0 ** -23, 1e-6


@pytest.fixture(scope="module")
def demo_outputs(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("outputs")
    run_gcbm(demo_zip(), out)
    return out


@pytest.fixture(scope="module")
def perpool_outputs(tmp_path_factory) -> Path:
    """The demo run with the output configuration that made the reference per-pool rasters."""
    root = tmp_path_factory.mktemp("perpool")
    with zipfile.ZipFile(demo_zip()) as archive:
        archive.extractall(root / "project")
    shutil.copyfile(shared_path(*REFERENCE, "perpool", "modules_output.json"),
                    root / "project" / "config" / "modules_output.json")
    run_gcbm(root / "project", root / "out", mosaics=False)
    return root / "out"


def _compare_rasters(reference_root: Path, ours_root: Path, pattern: str) -> int:
    compared = 0
    for reference in sorted(reference_root.glob(pattern)):
        ours = ours_root / reference.relative_to(reference_root)
        assert ours.exists(), f"missing {ours.relative_to(ours_root)}"
        with rasterio.open(reference) as a, rasterio.open(ours) as b:
            assert b.dtypes == a.dtypes and b.nodata == a.nodata, reference.name
            assert b.crs == a.crs and b.shape == a.shape, reference.name
            assert b.transform.almost_equals(a.transform, 1e-12), reference.name
            expected, actual = a.read(1).astype(np.float64), b.read(1).astype(np.float64)
        is_data = expected != a.nodata
        np.testing.assert_array_equal(actual != b.nodata, is_data, err_msg=reference.name)
        np.testing.assert_allclose(actual[is_data], expected[is_data], rtol=F32_RTOL, atol=ATOL,
                                   err_msg=reference.name)
        compared += 1
    return compared


def test_every_gcbm_geotiff_is_reproduced(demo_outputs):
    reference = shared_path(*REFERENCE, "run", "output")
    assert _compare_rasters(reference, demo_outputs, "*/-106_055/*.tif") == 21 * 11


def test_per_pool_rasters_match_gcbm(perpool_outputs):
    reference = shared_path(*REFERENCE, "perpool", "output_block51")
    # 30 pools x 11 steps, 30 post-spinup pools, the initial age and each pixel's area
    assert _compare_rasters(reference, perpool_outputs, "*/-106_055/*.tif") == 30 * 11 + 30 + 2


@pytest.mark.parametrize("table", sorted(LAYOUTS))
def test_compiled_indicators_of_our_run_equal_gcbm_compile_results(demo_outputs, table):
    # Issue 5's criterion for compiled indicators is 1e-6 relative: our pools and fluxes equal
    # GCBM's to ~1e-14, but a stock change subtracting nearly equal sums (e.g. 1.9e-4 tC from
    # terms of ~100 tC) keeps only the absolute error, 3e-13 tC, i.e. 1.5e-9 of itself.
    assert_compiled_table_equals_reference(demo_outputs / "compiled_simulation_output.db", table,
                                           rtol=1e-6)


def test_annual_summary_is_written_as_csv_and_json(demo_outputs):
    table = pd.read_csv(demo_outputs / "annual_summary.csv")
    records = json.loads((demo_outputs / "annual_summary.json").read_text())
    assert list(table["year"]) == list(range(2010, 2021)) == [r["year"] for r in records]
    reference = pd.read_csv(shared_path(*REFERENCE, "indicators_by_year.csv"))
    npp = reference[(reference.view == "v_stock_change_indicators") & (reference.indicator == "NPP")]
    npp_column = next(c for c in table.columns if c.startswith("npp"))
    np.testing.assert_allclose(table[npp_column], npp.sort_values("year")["value_tC"], rtol=1e-6)


def test_mosaics_are_cloud_optimized_and_equal_the_blocks(demo_outputs):
    cogs = sorted((demo_outputs / "cog").glob("*.tif"))
    assert len(cogs) == 21 * 11
    cog = demo_outputs / "cog" / "NPP_2012.tif"
    block = demo_outputs / "NPP" / "-106_055" / "NPP_-106_055_51_3.tif"
    with rasterio.open(cog) as mosaic, rasterio.open(block) as tile:
        assert mosaic.profile["tiled"] and mosaic.block_shapes == [(80, 80)]
        assert mosaic.overviews(1) == []  # 400 x 400: read whole, no overviews needed
        assert mosaic.compression.value == "DEFLATE"
        window = mosaic.window(*tile.bounds)
        np.testing.assert_array_equal(mosaic.read(1, window=window), tile.read(1))
        assert mosaic.nodata == tile.nodata
    assert cog_validate(cog, strict=True)[:2] == (True, [])


def test_no_output_file_is_empty_or_left_over(demo_outputs):
    files = [path for path in demo_outputs.rglob("*") if path.is_file()]
    assert [path for path in files if path.stat().st_size == 0] == []
    assert [path for path in demo_outputs.rglob(".*")] == []  # no staging, samples, temporaries
    assert len(files) == 21 * 11 * 2 + 7  # block files and maps; db, CSVs, summaries, manifest


def test_manifest_lists_inputs_outputs_and_environment(demo_outputs):
    manifest = json.loads((demo_outputs / "manifest.json").read_text())
    outputs = {entry["path"]: entry for entry in manifest["outputs"]}
    written = {p.relative_to(demo_outputs).as_posix() for p in demo_outputs.rglob("*")
               if p.is_file() and p.name != "manifest.json"}
    assert set(outputs) == written
    for name in ("gcbm_output.db", "pool_totals_by_year.csv", "NPP/-106_055/NPP_-106_055_51_1.tif",
                 "cog/NPP_2012.tif"):
        assert outputs[name]["sha256"] == sha256_of(demo_outputs / name)
    inputs = {entry["path"] for entry in manifest["inputs"]}
    assert {"gcbm-project-demo.zip", "config/variables.json",
            "input_database/gcbm_input.db", "layers/tiled/Classifier1.tiff"} <= inputs
    assert manifest["configuration"]["merged"]["LocalDomain"]["start_date"] == "2010/01/01"
    assert {"numpy", "rasterio", "GDAL"} <= set(manifest["environment"]["libraries"])
    assert manifest["summary"]["pixels"] == 11347


@pytest.mark.parametrize("step", ["write_results_db", "compile_tables", "write_mosaics"])
def test_a_failed_run_leaves_the_output_directory_as_it_was(tmp_path, monkeypatch, step):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(gcbm_run, step, broken)
    with pytest.raises(OSError, match="disk full"):
        run_gcbm(demo_zip(), out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def npp_only_project(tmp_path, n_blocks):
    from benchmarks.landscapes import replicate_blocks

    project = replicate_blocks(demo_zip(), n_blocks, tmp_path / "project")
    config = project / "config" / "modules_output.json"
    document = json.loads(config.read_text())
    items = document["Modules"]["WriteVariableGeotiff"]["settings"]["items"]
    document["Modules"]["WriteVariableGeotiff"]["settings"]["items"] = [
        item for item in items if item["data_name"] in ("NPP", "Age")]
    config.write_text(json.dumps(document))
    return project


def assert_mosaic_holds_blocks(mosaic_path, out, name, blocks, step):
    with rasterio.open(mosaic_path) as mosaic:
        for block in blocks:
            path = out / name / "-106_055" / f"{name}_-106_055_{block:02d}_{step}.tif"
            with rasterio.open(path) as tile:
                window = mosaic.window(*tile.bounds)
                np.testing.assert_array_equal(mosaic.read(1, window=window), tile.read(1))
                assert mosaic.nodata == tile.nodata and mosaic.dtypes == tile.dtypes


def test_a_mosaic_assembles_every_block(tmp_path):
    run_gcbm(npp_only_project(tmp_path, 2), tmp_path / "out")
    with rasterio.open(tmp_path / "out" / "cog" / "NPP_2012.tif") as mosaic:
        assert mosaic.shape == (400, 800)  # blocks 0 and 1 side by side
    assert_mosaic_holds_blocks(tmp_path / "out" / "cog" / "NPP_2012.tif", tmp_path / "out",
                               "NPP", (0, 1), 3)


def test_a_large_mosaic_is_a_cog_with_sampled_overviews(tmp_path):
    run_gcbm(npp_only_project(tmp_path, 3), tmp_path / "out")
    for name, label, step in (("NPP", "2014", 5), ("Age", "2012", 3)):
        cog = tmp_path / "out" / "cog" / f"{name}_{label}.tif"
        assert cog_validate(cog, strict=True)[:2] == (True, [])
        assert_mosaic_holds_blocks(cog, tmp_path / "out", name, (0, 1, 2), step)
        with rasterio.open(cog) as mosaic:
            assert mosaic.shape == (400, 1200) and mosaic.overviews(1) == [2, 4, 8, 16]
            full = mosaic.read(1)
        for level, factor in enumerate([2, 4, 8, 16]):
            with rasterio.open(cog, overview_level=level) as overview:
                np.testing.assert_array_equal(
                    overview.read(1), expected_overview(full, factor, overview.nodata))


def test_blocks_whose_tiles_do_not_fit_the_mosaic_are_re_encoded(tmp_path, monkeypatch):
    from flintcloud.gcbm.outputs import geotiffs, mosaics

    for module in (geotiffs, mosaics):
        monkeypatch.setattr(module, "block_tile", lambda grid: 256)  # 400 % 256 != 0
    run_gcbm(npp_only_project(tmp_path, 3), tmp_path / "out")
    cog = tmp_path / "out" / "cog" / "NPP_2013.tif"
    assert cog_validate(cog, strict=True)[:2] == (True, [])
    assert_mosaic_holds_blocks(cog, tmp_path / "out", "NPP", (0, 1, 2), 4)
    with rasterio.open(cog) as mosaic, rasterio.open(cog, overview_level=1) as overview:
        assert mosaic.block_shapes == [(256, 256)]
        np.testing.assert_array_equal(overview.read(1),
                                      expected_overview(mosaic.read(1), 4, mosaic.nodata))


def test_a_failure_while_writing_block_files_fails_the_run_and_leaves_nothing(tmp_path,
                                                                             monkeypatch):
    from flintcloud.gcbm.outputs import geotiffs as spatial_output

    def broken(*args):
        raise OSError("disk full while writing GeoTIFFs")

    monkeypatch.setattr(spatial_output, "write_tiled_file", broken)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full while writing GeoTIFFs"):
        run_gcbm(demo_zip(), out)
    assert list(out.iterdir()) == []


def test_a_process_pool_writes_the_same_bytes_as_running_here(tmp_path):
    project = npp_only_project(tmp_path, 3)
    here = run_gcbm(project, tmp_path / "here")
    with process_pool(2) as pool:
        there = run_gcbm(project, tmp_path / "pool", executor=pool)
    assert there.run.n_blocks_simulated == here.run.n_blocks_simulated == 3
    hashes = [{entry["path"]: entry["sha256"] for entry in
               json.loads((out / "manifest.json").read_text())["outputs"]}
              for out in (tmp_path / "here", tmp_path / "pool")]
    assert len(hashes[0]) > 2 * 11 * 3 and hashes[0] == hashes[1]
    assert all(sha256_of(tmp_path / "pool" / path) == digest for path, digest in hashes[1].items())
    pd.testing.assert_frame_equal(there.run.results.pools, here.run.results.pools)


def test_a_failing_task_in_a_pool_leaves_the_output_directory_as_it_was(tmp_path):
    project = npp_only_project(tmp_path, 2)
    layer = next(project.glob("**/layers/tiled/initial_age*.tif*"))
    layer.write_bytes(layer.read_bytes()[:len(layer.read_bytes()) // 2])  # tiles cut off
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier")
    with process_pool(2) as pool, pytest.raises(Exception, match="initial_age"):
        run_gcbm(project, out, executor=pool)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_a_block_simulated_in_parts_writes_the_same_files(tmp_path, monkeypatch):
    """A block's distinct stands are simulated STAND_CHUNK at a time (bounded memory): every
    GeoTIFF is the same bytes; landscape sums differ at most by the order of additions."""
    from flintcloud.gcbm import run as gcbm_run

    whole = run_gcbm(demo_zip(), tmp_path / "whole", mosaics=False)
    monkeypatch.setattr(gcbm_run, "STAND_CHUNK", 3)  # the demo's 10 stands in 4 parts
    parts = run_gcbm(demo_zip(), tmp_path / "parts", mosaics=False)
    hashes = [{entry["path"]: entry["sha256"] for entry in
               json.loads((out / "manifest.json").read_text())["outputs"]
               if entry["path"].endswith(".tif")} for out in (tmp_path / "whole", tmp_path / "parts")]
    assert len(hashes[0]) == 21 * 11 and hashes[0] == hashes[1]
    pd.testing.assert_frame_equal(parts.run.results.pool_totals_by_year(),
                                  whole.run.results.pool_totals_by_year(), check_exact=False,
                                  rtol=1e-13)
