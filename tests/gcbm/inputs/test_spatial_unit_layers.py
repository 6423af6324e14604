"""Spatial units from layers in uploaded inputs: admin_boundary / eco_boundary rasters with
attribute tables (pixel value -> boundary name), like classifiers; checked against the input
database, every problem at once; a project prepared from them runs as the project they came
from (gcbm-features/multi_spu, against real GCBM's run)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flintcloud.errors import InputProblems
from flintcloud.gcbm.inputs import prepare_project, validate_inputs
from flintcloud.gcbm.inputs.convert import project_to_upload_form
from flintcloud.gcbm.run import run_gcbm
from tests.conftest import shared_path
from tests.gcbm.outputs.test_results_db import _facts, _read

FEATURE = ("data", "gcbm-features", "multi_spu")


@pytest.fixture
def upload(tmp_path) -> Path:
    """multi_spu in the upload form: its spatial-unit rasters in miscellaneous/, their tables
    (and roles) in attributes.json."""
    with zipfile.ZipFile(shared_path(*FEATURE, "project.zip")) as archive:
        archive.extractall(tmp_path / "project")
    return project_to_upload_form(tmp_path / "project", tmp_path / "upload")


def _edit_attributes(upload: Path, change) -> None:
    path = upload / "attributes.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_spatial_unit_layers_are_roles_with_tables(upload):
    layers = json.loads((upload / "attributes.json").read_text())["layers"]
    assert layers["admin_boundary"] == {"role": "admin_boundary", "attributes": {
        "1": "British Columbia", "2": "Alberta"}}
    assert layers["eco_boundary"]["role"] == "eco_boundary"
    report = validate_inputs(upload)
    assert report.spatial_unit_id is None  # from layers, one per pixel
    roles = {layer["name"]: layer["role"] for layer in report.layers}
    assert (roles["admin_boundary"], roles["eco_boundary"]) == ("admin_boundary", "eco_boundary")


def test_a_project_prepared_from_spatial_unit_layers_runs_as_real_gcbm(upload, tmp_path):
    """Pool totals, and the results database by classifier set with the admin and eco
    boundary columns (`reporting.columns`, kept from the project), as real GCBM's."""
    settings = json.loads((upload / "attributes.json").read_text())
    assert settings["reporting"] == {"columns": ["admin_boundary", "eco_boundary"]}
    config = prepare_project(upload, tmp_path / "prepared")
    variables = json.loads((config / "variables.json").read_text())["Variables"]
    assert variables["admin_boundary"]["transform"]["data_id"] == "admin_boundary"
    outputs = run_gcbm(config.parent, tmp_path / "out", mosaics=False)
    ours = pd.read_csv(outputs.output_dir / "pool_totals_by_year.csv")
    theirs = pd.read_csv(shared_path(*FEATURE, "pool_totals_by_year.csv"))
    merged = ours.merge(theirs, on=["year", "step", "pool"], suffixes=("_our", "_ref"),
                        how="outer", indicator=True)
    assert (merged._merge == "both").all()
    np.testing.assert_allclose(merged.total_tC_our, merged.total_tC_ref, rtol=1e-6, atol=0)
    ours_db = _read(outputs.output_dir / "gcbm_output.db")
    theirs_db = _read(shared_path(*FEATURE, "output", "gcbm_output.db"))
    assert list(ours_db["ClassifierSetDimension"].columns) == \
        list(theirs_db["ClassifierSetDimension"].columns)
    assert {"admin_boundary", "eco_boundary"} <= set(ours_db["ClassifierSetDimension"].columns)
    frame, keys, value = _facts(ours_db)["Pools"]
    expected = _facts(theirs_db)["Pools"][0]
    merged = expected[[*keys, value]].merge(frame[[*keys, value]], on=keys, how="outer",
                                            suffixes=("_gcbm", "_ours"), indicator=True)
    assert (merged._merge == "both").all()
    np.testing.assert_allclose(merged[f"{value}_ours"], merged[f"{value}_gcbm"], rtol=1e-9,
                               atol=0)


def test_reporting_columns_are_variables_or_layers(upload):
    _edit_attributes(upload, lambda document: document.update(
        reporting={"columns": ["admin_boundary", "Classifier1", "no_such_thing"]}))
    with pytest.raises(InputProblems) as raised:
        validate_inputs(upload)
    assert [(problem.field, problem.detail) for problem in raised.value.problems] == [
        ("reporting.columns[1]", "'Classifier1' is a classifier: reported already"),
        ("reporting.columns[2]", "no variable or layer named 'no_such_thing'")]


def test_spatial_unit_layer_problems_are_listed_at_once(upload):
    def break_it(document):
        document["admin_boundary"] = "Alberta"  # and a layer gives it
        document["layers"]["admin_boundary"]["attributes"]["2"] = "Atlantis"
        del document["layers"]["eco_boundary"]["attributes"]["4"]

    _edit_attributes(upload, break_it)
    with pytest.raises(InputProblems) as raised:
        validate_inputs(upload)
    found = {(problem.source, problem.field): problem.detail for problem in raised.value.problems}
    assert "is given both by layer admin_boundary.tiff" in found[("upload", "admin_boundary")]
    assert found[("attributes.json", "admin_boundary.attributes['2']")].startswith(
        "admin_boundary 'Atlantis' is in no spatial unit of gcbm_input.db")
    assert found[("eco_boundary.tiff", "attributes")].startswith(
        "pixel values 4 are not in its attribute table")
    assert "no spatial unit" in found[("eco_boundary.tiff", "attributes")]


def test_a_part_given_neither_by_a_layer_nor_by_name_is_named(upload):
    (upload / "miscellaneous" / "eco_boundary.tiff").unlink()
    _edit_attributes(upload, lambda document: document["layers"].pop("eco_boundary"))
    with pytest.raises(InputProblems) as raised:
        validate_inputs(upload)
    assert [(problem.field, problem.detail) for problem in raised.value.problems] == [
        ("eco_boundary", "eco_boundary is given neither by a layer nor as a name")]
    _edit_attributes(upload, lambda document: document.update(eco_boundary="Taiga Plains"))
    assert validate_inputs(upload).spatial_unit_id is None  # admin per pixel, eco for all


def test_boundary_pairs_that_are_no_spatial_unit_are_counted(upload):
    """Each name is a database's boundary, but Alberta has no Boreal Cordillera or Pacific
    Maritime unit: the simulated cells of each such pair are counted (as the rasters say)."""
    import rasterio

    _edit_attributes(upload, lambda document: document["layers"]["admin_boundary"].update(
        attributes={"1": "Alberta", "2": "Alberta"}))
    with pytest.raises(InputProblems) as raised:
        validate_inputs(upload)
    arrays = {}
    for name in ("admin_boundary", "eco_boundary"):
        with rasterio.open(upload / "miscellaneous" / f"{name}.tiff") as raster:
            arrays[name] = raster.read(1)
    simulated = np.ones(arrays["admin_boundary"].shape, dtype=bool)
    for name in ("Classifier1", "Classifier2"):
        with rasterio.open(upload / "classifiers" / f"{name}.tiff") as raster:
            simulated &= raster.read(1) != raster.nodata
    expected = [(eco, int((simulated & (arrays["eco_boundary"] == value)).sum()))
                for value, eco in ((2, "Boreal Cordillera"), (3, "Pacific Maritime"))]
    assert [(problem.field, problem.detail) for problem in raised.value.problems] == [
        ("admin_boundary/eco_boundary", f"{count:,} simulated pixels are in Alberta / {eco}, "
         "which is no spatial unit of gcbm_input.db") for eco, count in expected]
    assert all(count > 0 for _, count in expected)
