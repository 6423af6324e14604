"""Spatial units from layers or constants, and extra reporting classifiers (gcbm-spec §4)."""

from __future__ import annotations

import json
import zipfile

import pytest

from flintcloud.errors import RasterError
from flintcloud.gcbm.run import run_project
from tests.conftest import shared_path


def _edit_json(path, edit):
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


@pytest.fixture
def multi_spu_copy(tmp_path):
    """An editable copy of the multi_spu feature project; returns its root folder."""
    with zipfile.ZipFile(shared_path("data", "gcbm-features", "multi_spu", "project.zip")) as z:
        z.extractall(tmp_path / "project")
    return tmp_path / "project"


def test_spatial_unit_missing_from_database_names_layer_value_and_count(multi_spu_copy):
    _edit_json(multi_spu_copy / "layers" / "tiled" / "eco_boundary.json",
               lambda d: d["attributes"].update({"5": "Nowhere"}))
    with pytest.raises(RasterError, match=r"cells of tile .* are in no spatial unit of the "
                       r"database: admin_boundary='Alberta', eco_boundary='Nowhere'") as info:
        run_project(multi_spu_copy)
    assert "1572 cells" in str(info.value)  # Alberta x Boreal Plains: 1572 px


def test_nodata_in_a_spatial_unit_layer_is_an_error(multi_spu_copy):
    _edit_json(multi_spu_copy / "layers" / "tiled" / "admin_boundary.json",
               lambda d: d["attributes"].pop("2"))
    with pytest.raises(RasterError, match="admin_boundary.*have no value"):
        run_project(multi_spu_copy)


def test_constant_reporting_variables_become_columns(demo_copy, demo_run):
    def add_reporting(document):
        document["Variables"]["reporting_classifiers"] = {"transform": {
            "type": "CompositeTransform", "library": "internal.flint", "allow_nulls": True,
            "vars": ["classifier_set", "eco_boundary", "admin_boundary"]}}
    _edit_json(demo_copy / "variables.json", add_reporting)
    _edit_json(demo_copy / "modules_output.json", lambda d: d["Modules"][
        "CBMAggregatorLandUnitData"].setdefault("settings", {}).update(
        {"reporting_classifier_set": "reporting_classifiers"}))
    run = run_project(demo_copy.parent)
    assert run.results.classifier_names == ("Classifier2", "Classifier1", "eco_boundary",
                                            "admin_boundary")
    locations = run.results.locations
    assert set(locations.admin_boundary) == {"British Columbia"}
    assert set(locations.eco_boundary) == {"Taiga Plains"}
    ours = run.results.pool_totals_by_year()
    assert ours.total_tC.to_list() == demo_run.results.pool_totals_by_year().total_tC.to_list()


def test_validate_accepts_spatial_units_from_layers(multi_spu_copy):
    from flintcloud.gcbm.inputs.prepare import validate_inputs

    report = validate_inputs(multi_spu_copy)
    assert report.spatial_unit_id is None and report.n_pixels == 11347


def test_validate_lists_unknown_boundary_names(multi_spu_copy):
    from flintcloud.errors import InputProblems
    from flintcloud.gcbm.inputs.prepare import validate_inputs

    _edit_json(multi_spu_copy / "layers" / "tiled" / "eco_boundary.json",
               lambda d: d["attributes"].update({"5": "Nowhere", "4": "Elsewhere"}))
    with pytest.raises(InputProblems) as info:
        validate_inputs(multi_spu_copy)
    text = str(info.value)
    assert "eco_boundary.json" in text and "attributes['5']" in text and "'Nowhere'" in text
    assert "'Elsewhere'" in text


def test_validate_names_a_malformed_boundary_variable(multi_spu_copy):
    from flintcloud.errors import InputProblems
    from flintcloud.gcbm.inputs.prepare import validate_inputs

    _edit_json(multi_spu_copy / "config" / "variables.json",
               lambda d: d["Variables"].update({"admin_boundary": {"name": "Alberta"}}))
    with pytest.raises(InputProblems, match="admin_boundary"):
        validate_inputs(multi_spu_copy)
