"""GeoTIFF writers keep dtype, nodata and georeferencing, and never leave partial files."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import rasterio
from affine import Affine

from flintcloud.io.geotiff import SparseTiles, write_cog, write_geotiff

TRANSFORM = Affine(0.00025, 0.0, -105.9, 0.0, -0.00025, 54.5)


@pytest.mark.parametrize("writer", [write_geotiff, write_cog])
@pytest.mark.parametrize("dtype, nodata", [(np.float32, -1e38), (np.int16, -32768)])
def test_written_raster_round_trips(tmp_path, writer, dtype, nodata):
    rng = np.random.default_rng(7)
    array = rng.uniform(0, 300, (400, 400)).astype(dtype)
    array[:10] = nodata
    path = writer(tmp_path / "x" / "out.tif", array, TRANSFORM, nodata)
    with rasterio.open(path) as dataset:
        assert dataset.dtypes[0] == np.dtype(dtype).name
        assert dataset.nodata == np.array(nodata, dtype=dtype)
        assert dataset.transform == TRANSFORM
        assert dataset.crs.to_epsg() == 4326
        np.testing.assert_array_equal(dataset.read(1), array)
    assert [p.name for p in path.parent.iterdir()] == ["out.tif"]


def test_cog_is_tiled_with_overviews(tmp_path):
    array = np.zeros((1024, 1024), dtype=np.float32)
    path = write_cog(tmp_path / "cog.tif", array, TRANSFORM, -1e38)
    with rasterio.open(path) as dataset:
        assert dataset.block_shapes[0] == (256, 256)
        assert dataset.overviews(1)


def test_failed_write_leaves_nothing(tmp_path):
    (tmp_path / "taken.tif").mkdir()  # the final rename cannot replace a directory
    for writer in (write_geotiff, write_cog):
        with pytest.raises(OSError):
            writer(tmp_path / "taken.tif", np.zeros((4, 4), dtype=np.float32), TRANSFORM, 0)
    assert [p.name for p in tmp_path.iterdir()] == ["taken.tif"]


def _decoded(level, dtype) -> np.ndarray:
    """A Level's raster, from its compressed tiles."""
    data = b"".join(level.tiles)
    ends = np.cumsum(level.tile_sizes)
    across = -(-level.width // level.tile)
    down = -(-level.height // level.tile)
    tiles = [np.frombuffer(zlib.decompress(data[end - size:end]), dtype)
             for size, end in zip(level.tile_sizes, ends, strict=True)]
    grid = np.array(tiles).reshape(down, across, level.tile, level.tile)
    return grid.swapaxes(1, 2).reshape(down * level.tile, across * level.tile)[
        :level.height, :level.width]


def test_sparse_tiles_hold_each_steps_values_bit_for_bit():
    rng = np.random.default_rng(3)
    height, width, tile, nodata = 170, 200, 32, -1.0
    cells = rng.choice(height * width, 2000, replace=False)
    rows, cols = np.divmod(cells, width)
    first = rng.uniform(0, 5, cells.size).astype(np.float32)
    first[rows < 40] = 0.0  # whole tiles of one value
    steps = np.stack([first, first, np.where(rows < 40, np.float32(-0.0), first),
                      np.zeros_like(first)])
    tiles = SparseTiles(rows, cols, width, height, tile)
    levels = tiles.levels(steps, nodata) + tiles.levels(steps[1:2], nodata)  # cached tiles
    for values, level in zip(list(steps) + [steps[1]], levels, strict=True):
        expected = np.full((height, width), nodata, dtype=np.float32)
        expected[rows, cols] = values
        np.testing.assert_array_equal(_decoded(level, np.float32).view(np.uint32),
                                      expected.view(np.uint32))  # -0.0 stays -0.0
