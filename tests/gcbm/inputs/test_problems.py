"""Each way inputs can be wrong is reported with the file and the problem, and every problem
found is reported at once (small synthetic uploads on the demo's grid, with the demo's db)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing

import numpy as np
import pytest
import rasterio

from flintcloud.errors import InputProblems
from flintcloud.gcbm.inputs import prepare_project, validate_inputs
from flintcloud.gcbm.run import run_project
from tests.gcbm.inputs.fixtures import (
    CELL,
    NORTH,
    SIZE,
    WEST,
    set_attributes,
    small_rasters,
    write_raster,
)

TEMPERATURE = "miscellaneous/mean_annual_temperature_moja.tiff"
DISTURBANCE = "disturbances/disturbances_2012_moja.tiff"


def _problems(source, attributes, **options) -> list[str]:
    with pytest.raises(InputProblems) as caught:
        validate_inputs(source, attributes=attributes, **options)
    assert caught.value.exit_code == 2 and caught.value.http_status == 422
    return [problem.message for problem in caught.value.problems]


def test_small_upload_is_valid_and_runs(small_upload, attributes_file, tmp_path):
    report = validate_inputs(small_upload, attributes=attributes_file)
    assert report.n_pixels == SIZE * SIZE - 1 and [t.index for t in report.tiles] == [12674]
    config = prepare_project(small_upload, tmp_path / "project", attributes=attributes_file)
    run = run_project(config.parent)
    assert run.n_pixels == SIZE * SIZE - 1 and run.n_steps == 5


def _reproject_to_web_mercator(path):
    from rasterio.warp import calculate_default_transform, reproject

    with rasterio.open(path) as source:
        data = source.read(1)
        transform, width, height = calculate_default_transform(
            source.crs, "EPSG:3857", source.width, source.height, *source.bounds)
        out = np.full((height, width), -9999.0, dtype=np.float32)
        reproject(data, out, src_transform=source.transform, src_crs=source.crs,
                  dst_transform=transform, dst_crs="EPSG:3857", dst_nodata=-9999.0)
    profile = {"driver": "GTiff", "width": width, "height": height, "count": 1,
               "dtype": "float32", "nodata": -9999.0, "crs": "EPSG:3857", "transform": transform}
    with rasterio.open(path, "w", **profile) as target:
        target.write(out, 1)


def test_mismatched_crs_is_rejected_naming_file_and_crs(small_upload, attributes_file):
    _reproject_to_web_mercator(small_upload / TEMPERATURE)
    [message] = _problems(small_upload, attributes_file)
    assert message.startswith("mean_annual_temperature_moja.tiff: grid: CRS EPSG:3857 differs "
                              "from EPSG:4326")


def test_mismatched_crs_is_reprojected_when_asked(small_upload, attributes_file, tmp_path):
    _reproject_to_web_mercator(small_upload / TEMPERATURE)
    config = prepare_project(small_upload, tmp_path / "project", attributes=attributes_file,
                             align="reproject")
    with rasterio.open(config.parent / "layers/tiled/mean_annual_temperature.tiff") as layer:
        assert layer.crs.to_epsg() == 4326 and layer.res == (CELL, CELL)
        window = layer.read(1, window=((2000 + 5, 2000 + 35), (400 + 5, 400 + 35)))
    np.testing.assert_allclose(window, -1.5, rtol=1e-6)  # bilinear on a constant field
    assert run_project(config.parent).n_pixels == SIZE * SIZE - 1


def test_half_pixel_shift_is_rejected_and_nearest_neighbour_aligned_on_request(
        small_upload, attributes_file, tmp_path):
    data = small_rasters()[DISTURBANCE]
    write_raster(small_upload / DISTURBANCE, data, nodata=255, west=WEST + CELL / 2,
                 north=NORTH)
    [message] = _problems(small_upload, attributes_file)
    assert message.startswith("disturbances_2012_moja.tiff: grid: grid is shifted by (+0.500, "
                              "+0.000) cells")
    config = prepare_project(small_upload, tmp_path / "project", attributes=attributes_file,
                             align="reproject")
    with rasterio.open(config.parent / "layers/tiled/disturbances_2012.tiff") as layer:
        values = layer.read(1, window=((2000, 2000 + SIZE), (400, 400 + SIZE)))
    assert set(np.unique(values)) <= {1, 255}  # nearest neighbour: no new categories
    assert 90 <= int((values == 1).sum()) <= 110  # the 10 x 10 patch, moved by half a cell


def test_unknown_classifier_value_names_the_attributes_file_and_value(small_upload,
                                                                      attributes_file):
    set_attributes(attributes_file, "Classifier1", {1: "TA", 2: "XX"})
    messages = _problems(small_upload, attributes_file)
    assert messages[0].startswith("attributes.json: Classifier1.attributes['2']: unknown "
                                  "classifier value 'XX' for Classifier1 (pixel value 2)")


def test_classifier_set_without_growth_curve(small_upload, attributes_file):
    set_attributes(attributes_file, "Classifier1", {1: "TA", 2: "GA"})  # GA only has GA,8
    [message] = _problems(small_upload, attributes_file)
    assert message.startswith("gcbm_input.db: growth_curve: 1 classifier set(s) in the rasters "
                              "have no growth curve: (Classifier1=GA, Classifier2=5)")


def test_disturbance_type_without_matrix_for_the_spatial_unit(small_upload, attributes_file):
    set_attributes(attributes_file, "disturbances_2012",
                   {1: {"disturbance_type": "WJPBW — Year 1 of outbreak"}})
    [message] = _problems(small_upload, attributes_file)
    assert message.startswith(
        "attributes.json: disturbances_2012.attributes['1'].disturbance_type: disturbance type "
        "'WJPBW — Year 1 of outbreak' has no disturbance matrix for spatial unit 33 "
        "(British Columbia / Taiga Plains)")


def test_disturbance_values_missing_from_the_table(small_upload, attributes_file):
    data = small_rasters()[DISTURBANCE]
    data[-5:, -5:] = 7
    write_raster(small_upload / DISTURBANCE, data, nodata=255)
    [message] = _problems(small_upload, attributes_file)
    assert message.startswith("disturbances_2012_moja.tiff: attributes: pixel values 7 are not "
                              "in its attribute table (from attributes.json)")


def test_corrupt_tiff(small_upload, attributes_file):
    (small_upload / "classifiers/Classifier2_moja.tiff").write_bytes(b"II*\x00garbage" * 100)
    messages = _problems(small_upload, attributes_file)
    assert messages[0].startswith("Classifier2_moja.tiff: cannot be read as a raster")


def test_truncated_tiff_is_reported_when_its_data_is_read(small_upload, attributes_file):
    path = small_upload / "classifiers/Classifier2_moja.tiff"
    write_raster(path, np.arange(SIZE * SIZE, dtype=np.uint8).reshape(SIZE, SIZE) % 3 + 1,
                 nodata=255)
    path.write_bytes(path.read_bytes()[:-400])
    messages = _problems(small_upload, attributes_file)
    assert any(m.startswith("Classifier2_moja.tiff: cannot read tile 12674") for m in messages)


def test_sqlite_file_that_is_not_a_gcbm_database(small_upload, attributes_file):
    database = small_upload / "db" / "gcbm_input.db"
    database.unlink()
    with closing(sqlite3.connect(database)) as db:
        db.execute("CREATE TABLE classifier (id INTEGER, name TEXT)")
    [message] = _problems(small_upload, attributes_file)
    assert message.startswith("gcbm_input.db: not a GCBM input database: 31 of GCBM's tables "
                              "are missing (admin_boundary, classifier_value, decay_parameter")


def test_file_that_is_not_sqlite(small_upload, attributes_file):
    (small_upload / "db" / "gcbm_input.db").write_text("id,name\n1,not a database\n")
    [message] = _problems(small_upload, attributes_file)
    assert message.startswith("gcbm_input.db: not an SQLite database (file is not a database)")


def test_every_problem_is_reported_at_once(small_upload, attributes_file):
    (small_upload / "classifiers/Classifier2_moja.tiff").write_bytes(b"not a tiff")
    set_attributes(attributes_file, "Classifier1", {1: "TA", 2: "XX"})
    set_attributes(attributes_file, "disturbances_2012",
                   {1: {"disturbance_type": "No such fire", "transition": 99}})
    _reproject_to_web_mercator(small_upload / TEMPERATURE)
    messages = _problems(small_upload, attributes_file)
    expected = ["Classifier2_moja.tiff: not a GeoTIFF: the file does not start with a TIFF header",
                "mean_annual_temperature_moja.tiff: grid: CRS EPSG:3857",
                "attributes.json: Classifier1.attributes['2']: unknown classifier value 'XX'",
                "attributes.json: disturbances_2012.attributes['1'].disturbance_type: unknown "
                "disturbance type 'No such fire'"]
    for start in expected:
        assert any(message.startswith(start) for message in messages), (start, messages)


def test_layer_without_attributes_is_never_guessed(small_upload, attributes_file):
    document = json.loads(attributes_file.read_text())
    del document["layers"]["Classifier2"]
    attributes_file.write_text(json.dumps(document))
    [message] = _problems(small_upload, attributes_file)
    assert message.startswith("Classifier2_moja.tiff: attributes: classifier layer "
                              "'Classifier2' has no attribute table")


def test_attribute_table_format_problems_name_their_fields(small_upload, attributes_file):
    set_attributes(attributes_file, "disturbances_2012",
                   {"one": "Wildfire", 2: {"transition": "x"}})
    messages = _problems(small_upload, attributes_file)
    assert "attributes.json: layers.disturbances_2012.attributes['one']: pixel value 'one' is " \
           "not an integer" in messages
    assert "attributes.json: layers.disturbances_2012.attributes['2']: missing " \
           "'disturbance_type'" in messages


def test_unknown_layer_in_the_attributes_file(small_upload, attributes_file):
    set_attributes(attributes_file, "Classifer1", {1: "TA"})
    [message] = _problems(small_upload, attributes_file)
    assert message.startswith("attributes.json: layers.Classifer1: layer 'Classifer1' matches "
                              "no raster")


def test_missing_spatial_unit_is_asked_for(small_upload, attributes_file):
    document = json.loads(attributes_file.read_text())
    del document["admin_boundary"], document["eco_boundary"]
    attributes_file.write_text(json.dumps(document))
    [message] = _problems(small_upload, attributes_file)
    assert message.startswith("admin_boundary/eco_boundary: gcbm_input.db has 48 spatial units")


def test_prepare_refuses_a_non_empty_target(small_upload, attributes_file, tmp_path):
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "keep.txt").write_text("mine")
    with pytest.raises(Exception, match="exists and is not an empty folder"):
        prepare_project(small_upload, tmp_path / "project", attributes=attributes_file)
    assert (tmp_path / "project" / "keep.txt").read_text() == "mine"


def test_failed_prepare_leaves_nothing_behind(small_upload, attributes_file, tmp_path):
    shutil.rmtree(small_upload / "db")
    with pytest.raises(InputProblems, match="expected exactly one database file in db/"):
        prepare_project(small_upload, tmp_path / "project", attributes=attributes_file)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["attributes.json", "upload"]
