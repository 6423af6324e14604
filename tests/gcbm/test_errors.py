"""Bad projects fail with messages that name the file and the field."""

from __future__ import annotations

import json
import sqlite3

import pytest

from flintcloud.errors import ConfigError, InputError, ParameterDbError, RasterError
from flintcloud.gcbm.run import run_project


def _edit_json(path, edit):
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def test_missing_project_names_path(tmp_path):
    with pytest.raises(ConfigError, match="project not found"):
        run_project(tmp_path / "nope")


def test_missing_config_file_names_file(demo_copy):
    (demo_copy / "spinup.json").unlink()
    with pytest.raises(ConfigError, match="spinup.json: file not found"):
        run_project(demo_copy.parent)


def test_bad_json_names_file_and_line(demo_copy):
    (demo_copy / "variables.json").write_text('{"Variables": {"a": 1,,}}')
    with pytest.raises(ConfigError, match="variables.json: malformed JSON at line 1"):
        run_project(demo_copy.parent)


def test_unknown_module_names_file_and_key(demo_copy):
    _edit_json(demo_copy / "modules_cbm.json",
               lambda d: d["Modules"].update({"CBMMossModule": {"order": 20, "library": "moja.modules.cbm"}}))
    with pytest.raises(ConfigError, match=r"modules_cbm.json: Modules.CBMMossModule: module 'CBMMossModule' is not supported"):
        run_project(demo_copy.parent)


def test_unsupported_setting_is_an_error(demo_copy):
    _edit_json(demo_copy / "modules_cbm.json",
               lambda d: d["Modules"]["CBMDecayModule"]["settings"].update({"extra_decay_removals": True}))
    with pytest.raises(ConfigError, match="extra_decay_removals"):
        run_project(demo_copy.parent)


def test_missing_table_names_database_and_variable(demo_copy):
    db = demo_copy.parent / "input_database" / "gcbm_input.db"
    with sqlite3.connect(db) as connection:
        connection.execute("DROP TABLE decay_parameter")
    with pytest.raises(ParameterDbError, match=r"gcbm_input.db: decay_parameters: .*no such table: decay_parameter"):
        run_project(demo_copy.parent)


def test_raster_grid_mismatch_names_layer_file(demo_copy):
    meta = demo_copy.parent / "layers" / "tiled" / "initial_age.json"
    _edit_json(meta, lambda d: d.update({"cellLatSize": 0.0005}))
    with pytest.raises(RasterError, match="initial_age.json: cellLatSize"):
        run_project(demo_copy.parent)


def test_unknown_disturbance_type_names_layer_attribute(demo_copy):
    meta = demo_copy.parent / "layers" / "tiled" / "disturbances_2011.json"
    _edit_json(meta, lambda d: d["attributes"]["1"].update({"disturbance_type": "Meteor"}))
    with pytest.raises(RasterError, match=r"disturbances_2011.json: attributes\['1'\].disturbance_type"):
        run_project(demo_copy.parent)


def test_errors_are_input_errors(demo_copy):
    (demo_copy / "localdomain.json").write_text("[]")
    with pytest.raises(InputError, match="localdomain.json"):
        run_project(demo_copy.parent)
