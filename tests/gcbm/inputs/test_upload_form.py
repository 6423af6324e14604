"""Upstream's upload form (gcbm-upload-demo.zip) plus a small attributes file becomes a project
that runs like the complete demo project (gcbm-project-demo.zip)."""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pytest
import yaml

from flintcloud.errors import InputProblems
from flintcloud.gcbm.inputs import check_files, get_config, prepare_project, validate_inputs
from flintcloud.gcbm.run import run_gcbm
from tests.gcbm.inputs.fixtures import (
    DEMO_UNIT,
    SIZE,
    demo_layer_attributes,
    project_zip,
    set_attributes,
    upload_zip,
)


def _without_years(table: dict) -> dict:
    return {value: {key: item for key, item in event.items() if key != "year"}
            for value, event in table.items()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The upload demo prepared with attributes from the demo's layer JSONs, minus the years
    (which come from the file names), and both projects run with every output."""
    root = tmp_path_factory.mktemp("upload-demo")
    layers = {name: {"attributes": _without_years(table) if name.startswith("disturbances")
                     else table} for name, table in demo_layer_attributes().items()}
    attributes = root / "attributes.yaml"
    attributes.write_text(yaml.safe_dump({**DEMO_UNIT, "start_year": 2010, "end_year": 2020,
                                          "layers": layers}, allow_unicode=True))
    config = prepare_project(upload_zip(), root / "project", attributes=attributes)
    ours = run_gcbm(config.parent, root / "ours")
    theirs = run_gcbm(project_zip(), root / "theirs")
    return config, ours, theirs


def test_prepared_upload_demo_matches_the_demo_project(runs):
    _, ours, theirs = runs
    assert ours.run.n_pixels == theirs.run.n_pixels == 11347
    for table in ("pool_totals_by_year", "fluxes_by_year"):
        a = getattr(ours.run.results, table)()
        b = getattr(theirs.run.results, table)()
        value = "total_tC" if table == "pool_totals_by_year" else "flux_tC"
        keys = [column for column in a.columns if a[column].dtype.kind not in "f"]
        assert a[keys].equals(b[keys])
        # Only the classifier order differs (database order vs the demo's), which changes the
        # summation order of locations: differences are in the last bits.
        np.testing.assert_allclose(a[value], b[value], rtol=1e-12, atol=0)


def test_prepared_upload_demo_writes_the_same_summary_csvs(runs):
    _, ours, theirs = runs
    for name in ("pool_totals_by_year.csv", "fluxes_by_year.csv"):
        assert (ours.output_dir / name).read_bytes() == (theirs.output_dir / name).read_bytes()


def test_prepared_layers_equal_the_demo_projects_layer_jsons(runs):
    config, _, _ = runs
    tiled = config.parent / "layers" / "tiled"
    for name, table in demo_layer_attributes().items():
        assert json.loads((tiled / f"{name}.json").read_text())["attributes"] == table
    localdomain = json.loads((config / "localdomain.json").read_text())["LocalDomain"]
    assert localdomain["landscape"]["tiles"] == [{"x": -106, "y": 55, "index": 12674}]
    assert (localdomain["start_date"], localdomain["end_date"]) == ("2010/01/01", "2021/01/01")
    study_area = json.loads((tiled / "study_area.json").read_text())
    assert study_area["tiles"] == localdomain["landscape"]["tiles"]


def test_dates_default_to_the_span_of_the_disturbance_years(tmp_path):
    attributes = tmp_path / "attributes.json"
    attributes.write_text(json.dumps({**DEMO_UNIT, "layers": {
        name: {"attributes": table} for name, table in demo_layer_attributes().items()}},
        ensure_ascii=False))
    report = validate_inputs(upload_zip(), attributes=attributes)
    assert (report.start_year, report.end_year) == (2011, 2018)
    assert report.n_pixels == 11347 and [t.index for t in report.tiles] == [12674]
    assert report.form == "upload" and not report.warnings


def test_attributes_as_csv(tmp_path):
    rows = ["layer,value,classifier_value,disturbance_type,transition"]
    for name, table in demo_layer_attributes().items():
        for value, item in table.items():
            if isinstance(item, str):
                rows.append(f"{name},{value},{item},,")
            else:
                rows.append(f'{name},{value},,"{item["disturbance_type"]}",{item["transition"]}')
    attributes = tmp_path / "attributes.csv"
    attributes.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = validate_inputs(upload_zip(), attributes=attributes, start_year=2010,
                             end_year=2020, **DEMO_UNIT)
    assert report.n_pixels == 11347
    assert {layer["attributes_source"] for layer in report.layers
            if layer["role"] in ("classifier", "disturbance")} == {"attributes.csv"}


def test_upload_without_attributes_lists_every_layer_without_a_table(tmp_path):
    with pytest.raises(InputProblems) as caught:
        validate_inputs(upload_zip(), **DEMO_UNIT)
    message = str(caught.value)
    missing = re.findall(r"(\w+_moja\.tiff): attributes: \w+ layer '\w+' has no attribute "
                         "table", message)
    assert sorted(missing) == sorted(
        f"{name}_moja.tiff" for name in demo_layer_attributes())
    assert caught.value.exit_code == 2 and caught.value.http_status == 422


def test_upload_zip_may_carry_its_attributes_file(tmp_path):
    document = {**DEMO_UNIT, "layers": {name: {"attributes": table} for name, table in
                                        demo_layer_attributes().items()}}
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload_zip()) as original, zipfile.ZipFile(archive, "w") as copy:
        for member in original.infolist():
            copy.writestr(member, original.read(member))
        copy.writestr("GCBM_New_Demo_Run/attributes.yaml",
                      yaml.safe_dump(document, allow_unicode=True))
    report = validate_inputs(archive)
    assert report.n_pixels == 11347 and (report.start_year, report.end_year) == (2011, 2018)


def test_an_attributes_file_may_be_a_flat_mapping_of_layers_to_tables(small_upload,
                                                                        attributes_file):
    """As upstream FLINT.Cloud's branches sent them: keys are layer or file names."""
    attributes_file.write_text(json.dumps({
        "Classifier1_moja.tiff": {"1": "TA", "2": "BP"}, "Classifier2": {"1": "5"},
        "disturbances_2012_moja": {"1": {"disturbance_type": "Wildfire", "transition": 1}}}))
    report = validate_inputs(small_upload, attributes=attributes_file, start_year=2010,
                             end_year=2014, **DEMO_UNIT)
    assert report.n_pixels == SIZE * SIZE - 1


def test_an_attributes_file_sets_spinup_growth_and_outputs(small_upload, attributes_file,
                                                           tmp_path):
    document = json.loads(attributes_file.read_text())
    document.update(spinup={"minimum_rotation": 25}, growth={"smoother_enabled": False},
                    outputs={"results_database": False})
    attributes_file.write_text(json.dumps(document))
    config = prepare_project(small_upload, tmp_path / "project", attributes=attributes_file)
    settings = get_config(config)
    assert settings.spinup.enabled and settings.spinup.minimum_rotation == 25
    assert settings.growth.smoother_enabled is False
    assert settings.outputs.results_database is False
    assert len(settings.outputs.geotiff_indicators) == 21  # left as the templates have them


def test_check_files_leaves_out_what_is_missing(small_upload, attributes_file):
    """Inputs that arrive piece by piece: a missing layer, database or attribute table is not a
    problem of any file (each is a MissingInputError for validate_inputs); a bad file is."""
    (small_upload / "db" / "gcbm_input.db").unlink()
    (small_upload / "miscellaneous" / "initial_age_moja.tiff").unlink()
    document = json.loads(attributes_file.read_text())
    del document["layers"]["Classifier2"]
    attributes_file.write_text(json.dumps(document))
    check_files(small_upload, attributes=attributes_file)
    with pytest.raises(InputProblems) as caught:
        validate_inputs(small_upload, attributes=attributes_file)
    assert [problem.code for problem in caught.value.problems] == ["missing_input"] * 3

    (small_upload / "classifiers" / "Classifier2_moja.tiff").write_bytes(b"<html></html>")
    set_attributes(attributes_file, "Classifier1", {"1": "TA", "x": "BP"})
    with pytest.raises(InputProblems) as caught:
        check_files(small_upload, attributes=attributes_file)
    assert sorted(problem.message for problem in caught.value.problems) == [
        "Classifier2_moja.tiff: not a GeoTIFF: the file does not start with a TIFF header "
        "(upload a GeoTIFF)",
        "attributes.json: layers.Classifier1.attributes['x']: pixel value 'x' is not an integer"]
