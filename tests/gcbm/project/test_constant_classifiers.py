"""A classifier given as a constant in variables.json (`"Classifier2": "<value>"`) is that value
in every cell, as GCBM's CompositeTransform reads it: the same results as a layer holding that
value wherever the other classifiers have one."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
import rasterio

from flintcloud.errors import ConfigError
from flintcloud.gcbm.run import run_gcbm
from tests.gcbm.conftest import demo_zip


def _project(tmp_path, name: str):
    with zipfile.ZipFile(demo_zip()) as zipped:
        zipped.extractall(tmp_path / name)
    return tmp_path / name


def _set_variable(project, name: str, value) -> None:
    path = project / "config" / "variables.json"
    document = json.loads(path.read_text())
    document["Variables"][name] = value
    path.write_text(json.dumps(document))


@pytest.fixture(scope="module")
def one_value(tmp_path_factory):
    """(pixel value, classifier value) of Classifier2 that most cells hold."""
    tmp = tmp_path_factory.mktemp("value")
    project = _project(tmp, "demo")
    layer = project / "layers" / "tiled" / "Classifier2.tiff"
    with rasterio.open(layer) as dataset:
        data = dataset.read(1)
        values, counts = np.unique(data[data != dataset.nodata], return_counts=True)
    pixel = int(values[np.argmax(counts)])
    table = json.loads((project / "layers" / "tiled" / "Classifier2.json").read_text())
    return pixel, str(table["attributes"][str(pixel)])


def test_a_constant_classifier_runs_as_a_layer_of_that_value(tmp_path, one_value):
    pixel, value = one_value
    layered = _project(tmp_path, "layered")  # Classifier2 = value wherever Classifier1 has one
    with rasterio.open(layered / "layers" / "tiled" / "Classifier1.tiff") as first:
        has_first = first.read(1) != first.nodata
    with rasterio.open(layered / "layers" / "tiled" / "Classifier2.tiff", "r+") as second:
        second.write(np.where(has_first, pixel, second.nodata).astype(second.dtypes[0]), 1)
    constant = _project(tmp_path, "constant")
    _set_variable(constant, "Classifier2", value)

    run_gcbm(layered, tmp_path / "layered-out", mosaics=False)
    run_gcbm(constant, tmp_path / "constant-out", mosaics=False)
    for table in ("pool_totals_by_year.csv", "fluxes_by_year.csv", "annual_summary.csv"):
        expected = pd.read_csv(tmp_path / "layered-out" / table)
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "constant-out" / table), expected)
    assert len(expected) > 0


def test_every_classifier_constant_or_not_a_value_is_a_clear_error(tmp_path, one_value):
    project = _project(tmp_path, "bad")
    _set_variable(project, "Classifier2", {"nested": 1})
    with pytest.raises(ConfigError, match="Classifier2.*raster layer variable or a classifier"):
        run_gcbm(project, tmp_path / "out")
    _set_variable(project, "Classifier2", one_value[1])
    _set_variable(project, "Classifier1", "x")
    with pytest.raises(ConfigError, match="every classifier is a constant"):
        run_gcbm(project, tmp_path / "out")


def test_validate_checks_a_constant_classifiers_value_against_the_database(tmp_path, one_value):
    from flintcloud.errors import InputProblems
    from flintcloud.gcbm.inputs import validate_inputs

    project = _project(tmp_path, "checked")
    _set_variable(project, "Classifier2", "no-such-value")
    with pytest.raises(InputProblems) as raised:
        validate_inputs(project)
    [problem] = [p for p in raised.value.problems if p.field == "Variables.Classifier2"]
    assert problem.source == "variables.json" and "'no-such-value'" in problem.detail
    assert not any("has no layer" in p.detail for p in raised.value.problems)
