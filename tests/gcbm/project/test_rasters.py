"""Reading a block's window of a layer: cells outside the file are nodata, as rasterio's
boundless reads give them (which are slow, so the reader does without)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from flintcloud.gcbm.project.config import Grid, Layer
from flintcloud.gcbm.project.rasters import LayerReader

CELL = 0.00025


@pytest.fixture
def small_layer(tmp_path) -> Layer:
    path = tmp_path / "age.tif"
    data = np.arange(30 * 20, dtype=np.int16).reshape(30, 20)
    with rasterio.open(path, "w", driver="GTiff", width=20, height=30, count=1, dtype="int16",
                       nodata=-1, crs="EPSG:4326",
                       transform=Affine(CELL, 0, -106.0, 0, -CELL, 55.0)) as dataset:
        dataset.write(data, 1)
    grid = Grid(1.0, 1.0, 0.1, 0.1, CELL, CELL)
    return Layer("age", path, "age.json", "Int16", -1, grid, None)


@pytest.mark.parametrize("row, col", [(0, 0), (5, 3), (-4, 0), (0, -7), (25, 15), (-3, 18),
                                      (40, 0), (0, -20)])
def test_a_window_reads_like_a_boundless_read(small_layer, row, col):
    reader = LayerReader(small_layer)
    try:
        dataset = reader._open(None)
        ours = reader._read_window(dataset, row, col, 8, 6)
        theirs = dataset.read(1, window=rasterio.windows.Window(col, row, 6, 8), boundless=True,
                              fill_value=-1)
    finally:
        reader.close()
    assert ours.dtype == theirs.dtype == np.int16
    np.testing.assert_array_equal(ours, theirs)
