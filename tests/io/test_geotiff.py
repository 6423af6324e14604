"""GeoTIFF writers keep dtype, nodata and georeferencing, and never leave partial files."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from flintcloud.io.geotiff import write_cog, write_geotiff

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
