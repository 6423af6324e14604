"""Rasters as pictures: palette indices, colour ramps, the PNG encoder (decoded by GDAL, an
independent reader), decimated reads, web map tiles and single pixels."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import rasterio
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

from flintcloud.io.raster_image import (
    N_COLOURS,
    RAMPS,
    encode_palette_png,
    palette_indices,
    ramp_colours,
    read_band,
    read_pixel,
    read_tile,
    render_png,
    tile_grid,
)


def write_raster(path, values, *, nodata=-9999.0, origin=(-106.0, 55.0), resolution=0.5):
    values = np.asarray(values, dtype=np.float32)
    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0],
                       count=1, dtype="float32", crs="EPSG:4326", nodata=nodata,
                       transform=from_origin(*origin, resolution, resolution)) as raster:
        raster.write(values, 1)
    return path


def decode_png(data: bytes) -> tuple[np.ndarray, dict]:
    """(indices, colormap) of a palette PNG, read by GDAL."""
    with warnings.catch_warnings(), MemoryFile(data) as memory:
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a picture has no CRS
        dataset = memory.open()
        with dataset:
            assert dataset.driver == "PNG"
            return dataset.read(1), dataset.colormap(1)


def test_palette_indices_map_range_to_1_255_and_nodata_to_0():
    values = np.array([[0.0, 5.0, 10.0], [-3.0, 99.0, 7.0]])
    is_valid = np.array([[True, True, True], [True, True, False]])
    indices = palette_indices(values, is_valid, 0.0, 10.0)
    assert indices.dtype == np.uint8
    np.testing.assert_array_equal(indices, [[1, 128, 255], [1, 255, 0]])  # clipped at both ends


def test_palette_indices_of_a_flat_range_use_the_middle_colour():
    indices = palette_indices(np.full((2, 2), 3.0), np.ones((2, 2), dtype=bool), 3.0, 3.0)
    np.testing.assert_array_equal(indices, np.full((2, 2), 128))


def test_ramp_colours_start_and_end_at_the_ramps_stops():
    for name, stops in RAMPS.items():
        colours = ramp_colours(name)
        assert colours.shape == (N_COLOURS, 3) and colours.dtype == np.uint8
        for row, (_, hex_colour) in ((0, stops[0]), (-1, stops[-1])):
            assert "#" + "".join(f"{channel:02x}" for channel in colours[row]) == hex_colour


def test_png_decodes_to_the_same_indices_palette_and_transparency():
    rng = np.random.default_rng(1234)
    indices = rng.integers(0, 4, size=(7, 5), dtype=np.uint8)
    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], dtype=np.uint8)
    decoded, colormap = decode_png(encode_palette_png(indices, palette))
    np.testing.assert_array_equal(decoded, indices)
    assert colormap[0][3] == 0  # transparent nodata
    assert [colormap[i] for i in (1, 2, 3)] == [(255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255)]


def test_png_needs_a_pixel():
    with pytest.raises(ValueError, match="at least one pixel"):
        encode_palette_png(np.zeros((0, 3), dtype=np.uint8), np.zeros((2, 3), dtype=np.uint8))


def test_render_png_colours_the_band_and_hides_nodata(tmp_path):
    path = write_raster(tmp_path / "a.tif", [[0.0, 10.0], [-9999.0, np.nan]])
    band = read_band(path)
    assert band.n_valid == 2 and band.value_range() == (0.0, 10.0)  # NaN counts as nodata
    decoded, colormap = decode_png(render_png(band.values, band.is_valid, 0.0, 10.0, "viridis"))
    np.testing.assert_array_equal(decoded, [[1, 255], [0, 0]])
    assert colormap[1][:3] == (0x44, 0x01, 0x54) and colormap[255][:3] == (0xfd, 0xe7, 0x25)
    assert colormap[0][3] == 0 and colormap[1][3] == 255


def test_read_band_decimates_to_max_size_and_keeps_bounds(tmp_path):
    values = np.arange(40 * 30, dtype=np.float32).reshape(40, 30)
    path = write_raster(tmp_path / "big.tif", values, resolution=0.25)
    band = read_band(path, max_size=10)
    assert band.values.shape == (10, 8)
    assert (band.source_width, band.source_height) == (30, 40)
    assert band.bounds == (-106.0, 45.0, -98.5, 55.0)
    assert band.crs == "EPSG:4326"


def test_valid_bounds_enclose_the_valid_pixels(tmp_path):
    values = np.full((4, 4), -9999.0)
    values[1, 2] = values[2, 1] = 1.0
    band = read_band(write_raster(tmp_path / "sparse.tif", values))
    assert band.valid_bounds() == (-105.5, 53.5, -104.5, 54.5)
    assert read_band(write_raster(tmp_path / "empty.tif", np.full((2, 2), -9999.0))).valid_bounds() is None


def test_read_pixel_finds_the_cell_nodata_and_outside(tmp_path):
    path = write_raster(tmp_path / "a.tif", [[1.5, 2.5], [-9999.0, 4.5]])
    assert read_pixel(path, -105.25, 54.75) == (0, 1, 2.5)
    assert read_pixel(path, -105.75, 54.25) == (1, 0, None)
    assert read_pixel(path, -107.0, 54.75) is None
    assert read_pixel(path, -105.25, 56.0) is None


def test_tiles_read_the_raster_in_web_mercator_nearest(tmp_path):
    # 2 x 2 pixels of 0.5° from (-106, 55)
    path = write_raster(tmp_path / "a.tif", [[1.0, 2.0], [-9999.0, 4.0]])
    grid = tile_grid(path)
    assert grid.bounds == pytest.approx((-106.0, 54.0, -105.0, 55.0))
    assert 0 <= grid.minzoom <= grid.maxzoom
    # tile 10/222/320 spans lon -101.95..-101.6: outside
    assert read_tile(path, 10, 222, 320) is None
    values, is_valid = read_tile(path, 7, 26, 40)  # -106.9..-104.1°, 54.2..55.8°: 4 pixels in part
    assert values.shape == is_valid.shape == (256, 256)
    assert set(np.unique(values[is_valid])) == {1.0, 2.0, 4.0}  # nearest: no blended values
