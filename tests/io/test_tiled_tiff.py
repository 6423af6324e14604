"""Tiled GeoTIFFs written from compressed tiles: GDAL, tifffile and a COG validator agree."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import rasterio
import tifffile
from affine import Affine
from rio_cogeo import cog_validate

from flintcloud.io import tiled_tiff
from flintcloud.io.geotiff import write_cog, write_geotiff
from flintcloud.io.manifest import sha256_of

TRANSFORM = Affine(0.00025, 0.0, -105.9, 0.0, -0.00025, 54.5)


def sparse_array(shape, dtype, nodata, seed=3):
    rng = np.random.default_rng(seed)
    array = np.full(shape, nodata, dtype=dtype)
    rows, cols = shape
    array[rows // 5:rows // 2, cols // 3:cols // 2] = rng.uniform(-50, 300, (
        rows // 2 - rows // 5, cols // 2 - cols // 3)).astype(dtype)
    return array


def expected_overview(array, factor, nodata):
    """Cell i takes pixel i*f + f - 1; cells whose pixel lies beyond the edge are nodata."""
    rows, cols = array.shape
    out = np.full((-(-rows // factor), -(-cols // factor)), nodata, dtype=array.dtype)
    picked = array[factor - 1::factor, factor - 1::factor]
    out[:picked.shape[0], :picked.shape[1]] = picked
    return out


@pytest.mark.parametrize("dtype, nodata", [(np.float32, -1e38), (np.float64, -1e308),
                                           (np.int16, -32768), (np.uint8, 255), (np.int32, -1)])
def test_every_type_round_trips_through_gdal_and_tifffile(tmp_path, dtype, nodata):
    array = sparse_array((203, 517), dtype, nodata)  # edge tiles are partial
    path = write_geotiff(tmp_path / "a.tif", array, TRANSFORM, nodata, tile=64)
    with rasterio.open(path) as dataset:
        assert dataset.dtypes[0] == np.dtype(dtype).name
        assert dataset.nodata == np.array(nodata, dtype=dtype)
        assert dataset.transform == TRANSFORM and dataset.crs.to_epsg() == 4326
        assert dataset.block_shapes == [(64, 64)] and dataset.compression.value == "DEFLATE"
        np.testing.assert_array_equal(dataset.read(1), array)
    np.testing.assert_array_equal(tifffile.imread(path), array)


def test_a_cog_has_valid_layout_and_sampled_overviews(tmp_path):
    array = sparse_array((1500, 2100), np.float32, -1e38)
    path = write_cog(tmp_path / "cog.tif", array, TRANSFORM, -1e38)
    assert cog_validate(path, strict=True)[:2] == (True, [])
    with rasterio.open(path) as dataset:
        assert dataset.overviews(1) == [2, 4, 8, 16]
        np.testing.assert_array_equal(dataset.read(1), array)
    for level, factor in enumerate([2, 4, 8, 16]):
        with rasterio.open(path, overview_level=level) as overview:
            np.testing.assert_array_equal(overview.read(1),
                                          expected_overview(array, factor, -1e38))


def test_files_past_4_gib_offsets_are_bigtiff(tmp_path, monkeypatch):
    monkeypatch.setattr(tiled_tiff, "_CLASSIC_LIMIT", 0)  # as if the file were that large
    array = sparse_array((1100, 700), np.int16, -32768)
    path = write_cog(tmp_path / "big.tif", array, TRANSFORM, -32768)
    assert path.read_bytes()[:4] == b"II+\x00"
    assert cog_validate(path, strict=True)[:2] == (True, [])
    with rasterio.open(path) as dataset, rasterio.open(path, overview_level=0) as overview:
        np.testing.assert_array_equal(dataset.read(1), array)
        np.testing.assert_array_equal(overview.read(1), expected_overview(array, 2, -32768))


def test_a_written_file_reports_its_tiles_size_and_hash(tmp_path):
    array = sparse_array((160, 240), np.float32, -1e38)
    tiles = tiled_tiff.encode_tiles(array, -1e38, 80)
    level = tiled_tiff.Level(240, 160, 80, [len(t) for t in tiles], tiles)
    path = tmp_path / "t.tif"
    written = tiled_tiff.write_tiled_file(path, [level], np.float32, TRANSFORM, -1e38)
    data = path.read_bytes()
    assert [data[o:o + len(t)] for o, t in zip(written.tile_offsets, tiles, strict=True)] == tiles
    assert (written.size, written.sha256) == (len(data), sha256_of(path))


def test_a_file_written_over_a_longer_one_holds_only_itself(tmp_path):
    path = tmp_path / "t.tif"
    path.write_bytes(b"x" * 100_000)
    tiles = [tiled_tiff.deflate(np.full((16, 16), -1.0, np.float32).tobytes())]
    level = tiled_tiff.Level(16, 16, 16, [len(tiles[0])], tiles)
    written = tiled_tiff.write_tiled_file(path, [level], np.float32, TRANSFORM, -1.0)
    assert written.size == path.stat().st_size < 100_000
    with rasterio.open(path) as dataset:
        assert (dataset.read(1) == -1.0).all()


def test_fresh_processes_write_identical_bytes(tmp_path):
    """Reruns must reproduce files byte for byte: nothing written may depend on memory state
    or time. (ISA-L's deflate did, rarely; the service's crash-rerun test caught it.)"""
    script = (
        "import sys, numpy as np\n"
        "from affine import Affine\n"
        "from flintcloud.io.geotiff import write_geotiff\n"
        "rng = np.random.default_rng(11)\n"
        "a = np.full((1600, 1600), -1e38, np.float32)\n"
        "a[::3, ::2] = rng.integers(0, 400, a[::3, ::2].shape) / np.float32(7)\n"
        "write_geotiff(sys.argv[1], a, Affine(0.00025, 0, -106, 0, -0.00025, 55), -1e38, tile=80)\n")
    digests = set()
    for run in range(4):
        path = tmp_path / f"{run}.tif"
        subprocess.run([sys.executable, "-c", script, str(path)], check=True)
        digests.add(sha256_of(path))
    assert len(digests) == 1


def test_all_nodata_tiles_are_sparse_and_read_as_nodata(tmp_path):
    """As GDAL's SPARSE_OK: an all-nodata tile has offset 0 and byte count 0, and reads back
    as nodata."""
    array = np.full((160, 240), -1e38, np.float32)
    array[5, 90] = 3.5  # only the tile in row 0, column 1 holds data
    tiles = tiled_tiff.encode_tiles(array, -1e38, 80)
    assert [len(t) > 0 for t in tiles] == [False, True, False, False, False, False]
    level = tiled_tiff.Level(240, 160, 80, [len(t) for t in tiles], tiles)
    path = tmp_path / "sparse.tif"
    written = tiled_tiff.write_tiled_file(path, [level], np.float32, TRANSFORM, -1e38)
    assert written.tile_offsets.tolist()[0] == 0 and written.tile_offsets.tolist()[1] > 0
    assert written.tile_sizes.tolist() == [len(t) for t in tiles]
    with rasterio.open(path) as dataset:
        assert dataset.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=1) in (None, "0", "")
        np.testing.assert_array_equal(dataset.read(1), array)
