"""Projects laid out and written as GCBM's standalone template publishes them (issue 13 item
4), built from the demo in tmp_path: each runs, and gives the demo's numbers where it should."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from flintcloud.gcbm.run import run_gcbm, run_project


def _edit_json(path, edit):
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def _shorten(config_dir, end="2013/01/01"):
    _edit_json(config_dir / "localdomain.json",
               lambda d: d["LocalDomain"].update({"end_date": end}))


def _same_as_demo(run, demo_run):
    ours = run.results.pool_totals_by_year()
    demo = demo_run.results.pool_totals_by_year()
    merged = ours.merge(demo, on=["year", "step", "pool"], suffixes=("", "_demo"))
    assert len(merged) == len(ours)
    np.testing.assert_array_equal(merged.total_tC, merged.total_tC_demo)


def test_template_layout_with_windows_paths(demo_copy, demo_run):
    """gcbm_project/ beside layers/ and input_database/, provider paths with backslashes."""
    root = demo_copy.parent
    _shorten(demo_copy)

    def windows(document):
        providers = document["Providers"]
        providers["SQLite"]["path"] = providers["SQLite"]["path"].replace("/", "\\")
        for layer in providers["RasterTiled"]["layers"]:
            layer["layer_path"] = layer["layer_path"].replace("/", "\\")
    _edit_json(demo_copy / "provider_config.json", windows)
    shutil.move(demo_copy, root / "gcbm_project")
    (root / "old" / "config").mkdir(parents=True)  # a stray copy nearer the top loses
    (root / "old" / "gcbm_config.cfg").write_text("config=missing.json\n")
    _same_as_demo(run_project(root), demo_run)


def test_leading_species_variables_and_empty_ordering(demo_copy, demo_run):
    """SQL variables that use other SQL variables (the template's leading species), and
    empty disturbance orderings (no ordering: the layers' order)."""
    _shorten(demo_copy)
    leading = ("SELECT s.id FROM growth_curve_component gcc INNER JOIN species s ON "
               "s.id = gcc.species_id INNER JOIN forest_type ft ON ft.id = s.forest_type_id "
               "WHERE gcc.growth_curve_id = {var:growth_curve_id} AND ft.name = '%s' "
               "ORDER BY gcc.id LIMIT 1")

    def edit(document):
        variables = document["Variables"]
        for forest_type in ("Softwood", "Hardwood"):
            variables[f"{forest_type.lower()}_leading_species_id"] = {"transform": {
                "type": "SQLQueryTransform", "library": "internal.flint", "provider": "SQLite",
                "queryString": leading % forest_type}}
        query = variables["volume_to_biomass_parameters"]["transform"]["queryString"]
        variables["volume_to_biomass_parameters"]["transform"]["queryString"] = query.replace(
            "ORDER BY", "AND s.id IN ({var:softwood_leading_species_id}, "
            "{var:hardwood_leading_species_id}) ORDER BY")
        variables["user_disturbance_order"] = []
        variables["default_disturbance_order"] = None
    _edit_json(demo_copy / "variables.json", edit)
    _same_as_demo(run_project(demo_copy.parent), demo_run)


def test_constant_initial_age_and_temperature(demo_copy):
    _shorten(demo_copy)
    _edit_json(demo_copy / "variables.json", lambda d: d["Variables"].update(
        {"initial_age": 60, "mean_annual_temperature": -1.5}))
    run = run_project(demo_copy.parent)
    step0 = run.results.locations.query("step == 0")
    assert set(step0.age_class) == {4}  # 60-79
    assert run.n_pixels == 11347


def test_no_disturbance_layers_writes_every_output(demo_copy, tmp_path):
    _shorten(demo_copy)
    _edit_json(demo_copy / "modules_cbm.json", lambda d: d["Modules"][
        "CBMDisturbanceListener"]["settings"].update({"vars": []}))
    outputs = run_gcbm(demo_copy.parent, tmp_path / "out", mosaics=False)
    names = {path.name for path in outputs.files}
    for name in ("gcbm_output.db", "compiled_simulation_output.db", "annual_summary.csv",
                 "annual_summary.json", "pool_totals_by_year.csv", "fluxes_by_year.csv"):
        assert name in names
    fluxes = outputs.run.results.fluxes_by_year()
    assert set(fluxes.disturbance_type) == {""}


@pytest.mark.parametrize("variable, value", [("user_disturbance_order", "Wildfire"),
                                             ("default_disturbance_order", {"a": 1})])
def test_ordering_that_is_not_a_list_is_refused(demo_copy, variable, value):
    from flintcloud.errors import ConfigError

    _edit_json(demo_copy / "variables.json", lambda d: d["Variables"].update({variable: value}))
    with pytest.raises(ConfigError, match=variable):
        run_project(demo_copy.parent)


def _template_variant(demo_copy):
    """Every item above at once: gcbm_project/, Windows paths, empty ordering, a constant
    initial_age, no disturbance layers; returns the project root."""
    def windows(document):
        providers = document["Providers"]
        providers["SQLite"]["path"] = providers["SQLite"]["path"].replace("/", "\\")
        for layer in providers["RasterTiled"]["layers"]:
            layer["layer_path"] = layer["layer_path"].replace("/", "\\")
    _edit_json(demo_copy / "provider_config.json", windows)
    _edit_json(demo_copy / "variables.json", lambda d: d["Variables"].update(
        {"initial_age": 60, "user_disturbance_order": [], "default_disturbance_order": []}))
    _edit_json(demo_copy / "modules_cbm.json", lambda d: d["Modules"][
        "CBMDisturbanceListener"]["settings"].update({"vars": []}))
    root = demo_copy.parent
    shutil.move(demo_copy, root / "gcbm_project")
    return root


def test_validate_reads_the_template_variant(demo_copy):
    from flintcloud.gcbm.inputs.prepare import validate_inputs

    report = validate_inputs(_template_variant(demo_copy))
    assert report.n_pixels == 11347
