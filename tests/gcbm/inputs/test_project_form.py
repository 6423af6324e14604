"""A complete GCBM project passes through after validation; its settings are read and edited
through the typed API, which validates every edit before any file changes."""

from __future__ import annotations

import json
import zipfile

import pytest

from flintcloud.errors import ConfigError, InputProblems
from flintcloud.gcbm.inputs import (
    config_schema,
    get_config,
    prepare_project,
    update_config,
    validate_inputs,
)
from flintcloud.gcbm.run import run_project
from tests.gcbm.inputs.fixtures import project_zip


@pytest.fixture
def project(tmp_path):
    return prepare_project(project_zip(), tmp_path / "project")


def _files(config):
    return {path.relative_to(config.parent): path.read_bytes()
            for path in sorted(config.parent.rglob("*")) if path.is_file()}


def test_complete_project_passes_through_byte_for_byte(project):
    with zipfile.ZipFile(project_zip()) as archive:
        original = {name: archive.read(name) for name in archive.namelist()
                    if not name.endswith("/")}
    assert {str(path): data for path, data in _files(project).items()} == original


def test_complete_project_validates_like_uploads(tmp_path):
    report = validate_inputs(project_zip())
    assert report.form == "project" and report.n_pixels == 11347
    assert (report.start_year, report.end_year, report.spatial_unit_id) == (2010, 2020, 33)


def test_get_config_reads_every_setting(project):
    settings = get_config(project)
    assert (settings.start_year, settings.end_year) == (2010, 2020)
    assert (settings.admin_boundary, settings.eco_boundary) == ("British Columbia",
                                                                "Taiga Plains")
    assert settings.spinup.enabled and settings.spinup.minimum_rotation == 10
    assert settings.growth.smoother_enabled and settings.outputs.results_database
    assert len(settings.outputs.geotiff_indicators) == 21
    assert settings.layers["Classifier1"].role == "classifier"
    assert settings.layers["disturbances_2013"].attributes["2"]["disturbance_type"] == "Wildfire"
    assert settings.layers["initial_age"].role == "age"
    assert get_config(project.parent) == settings  # the root or config/ alike
    assert "start_year" in config_schema()["properties"]


def test_update_config_changes_only_what_it_must(project):
    before = _files(project)
    settings = update_config(project, {"end_year": 2015, "spinup": {"minimum_rotation": 20},
                                       "outputs": {"geotiff_indicators": ["Age", "NPP"]}})
    assert settings.end_year == 2015 and settings.spinup.minimum_rotation == 20
    assert get_config(project) == settings
    changed = {path for path, data in _files(project).items() if before[path] != data}
    assert {str(path) for path in changed} == {"config/localdomain.json", "config/spinup.json",
                                               "config/modules_output.json"}
    domain = json.loads((project / "localdomain.json").read_text())["LocalDomain"]
    assert domain["end_date"] == "2016/01/01"
    run = run_project(project.parent)
    assert run.n_steps == 6


def test_update_config_edits_layer_attributes(project):
    table = {"1": {"year": 2012, "disturbance_type": "Wildfire", "transition": 1}}
    update_config(project, {"layers": {"disturbances_2011": {"attributes": table}}})
    document = json.loads((project.parent / "layers/tiled/disturbances_2011.json").read_text())
    assert document["attributes"] == table
    assert document["layer_data"] == "Byte"  # the rest of the layer JSON is kept


def test_update_config_reports_every_problem_with_its_field(project):
    before = _files(project)
    with pytest.raises(InputProblems) as caught:
        update_config(project, {"spinup": {"minimum_rotation": 0}, "colour": "red",
                                "layers": {"Classifier1": {"role": "age"},
                                           "nope": {"role": "other"}},
                                "outputs": {"geotiff_indicators": ["NPP", "XX"]}})
    fields = sorted(problem.field for problem in caught.value.problems)
    assert fields == ["colour", "layers.Classifier1.role", "layers.nope",
                      "outputs.geotiff_indicators", "spinup.minimum_rotation"]
    assert _files(project) == before


def test_update_config_refuses_a_period_out_of_order(project):
    before = _files(project)
    with pytest.raises(InputProblems, match="end_year 2005 is before start_year 2010") as caught:
        update_config(project, {"end_year": 2005})
    assert [problem.field for problem in caught.value.problems] == ["end_year"]
    assert _files(project) == before


def test_update_config_checks_against_the_database_and_rasters(project):
    with pytest.raises(InputProblems) as caught:
        update_config(project, {"admin_boundary": "Ontario", "layers": {
            "Classifier1": {"attributes": {"1": "ZZ", "2": "BP"}}}})
    messages = [problem.message for problem in caught.value.problems]
    assert messages[0].startswith("gcbm_input.db: spatial_unit: no spatial unit for Ontario / "
                                  "Taiga Plains (Ontario has Boreal Shield East")
    assert any(m.startswith("Classifier1.json: Classifier1.attributes['1']: unknown classifier "
                            "value 'ZZ'") for m in messages), messages
    assert any(m.startswith("Classifier1.tiff: attributes: pixel values 3, 4, 5, 6, 7, 8 are "
                            "not in its attribute table") for m in messages), messages
    assert len(messages) == 3  # the unknown value's sets are not reported again as curveless


def test_pass_through_with_new_dates(tmp_path):
    config = prepare_project(project_zip(), tmp_path / "project", start_year=2012,
                             end_year=2019)
    settings = get_config(config)
    assert (settings.start_year, settings.end_year) == (2012, 2019)


def test_get_config_of_a_folder_without_project(tmp_path):
    with pytest.raises(ConfigError, match="gcbm_config.cfg not found"):
        get_config(tmp_path)


def test_validating_a_project_with_bad_settings_lists_them(tmp_path):
    with pytest.raises(InputProblems, match="end_year 2005 is before start_year 2010"):
        validate_inputs(project_zip(), end_year=2005)


def test_spinup_parameters_can_be_given_and_given_back(project):
    assert get_config(project).spinup.parameters is None  # from the database
    before = run_project(project.parent).results.pool_totals_by_year()
    fixed = {"return_interval": 125, "max_rotations": 30, "historic_disturbance_type":
             "Wildfire", "last_pass_disturbance_type": "Wildfire", "delay": 0}
    update_config(project, {"spinup": {"parameters": fixed}})  # the database's own values
    assert get_config(project).spinup.parameters.model_dump() == fixed
    same = run_project(project.parent).results.pool_totals_by_year()
    assert same.equals(before)
    update_config(project, {"spinup": {"parameters": {**fixed, "return_interval": 60}}})
    shorter = run_project(project.parent).results.pool_totals_by_year()
    assert not shorter.total_tC.equals(before.total_tC)
    update_config(project, {"spinup": {"parameters": None}})
    assert get_config(project).spinup.parameters is None
    with zipfile.ZipFile(project_zip()) as archive:
        assert (project / "spinup.json").read_bytes() != b"" and json.loads(
            (project / "spinup.json").read_text())["Variables"] == json.loads(
            archive.read("config/spinup.json"))["Variables"]


def test_spinup_parameters_are_checked(project):
    with pytest.raises(InputProblems) as caught:
        update_config(project, {"spinup": {"parameters": {
            "return_interval": 0, "max_rotations": 30, "historic_disturbance_type": "Wildfire",
            "last_pass_disturbance_type": "Wildfire"}}})
    assert [p.field for p in caught.value.problems] == ["spinup.parameters.return_interval"]
    with pytest.raises(InputProblems) as caught:
        update_config(project, {"spinup": {"parameters": {
            "return_interval": 100, "max_rotations": 30, "historic_disturbance_type": "Fire!",
            "last_pass_disturbance_type": "WJPBW — Year 1 of outbreak"}}})
    messages = [p.message for p in caught.value.problems]
    assert messages == [
        "settings: spinup.parameters.historic_disturbance_type: unknown disturbance type "
        "'Fire!': not in gcbm_input.db's disturbance_type table",
        "settings: spinup.parameters.last_pass_disturbance_type: disturbance type 'WJPBW — "
        "Year 1 of outbreak' has no disturbance matrix for spatial unit 33 in gcbm_input.db"]
