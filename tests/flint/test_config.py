"""FLINT's multi-file config merge and errors that name the file and the JSON path."""

from __future__ import annotations

import json

import pytest

from flintcloud.errors import ConfigError
from flintcloud.flint.config import FlintConfig, format_path, load_config
from flintcloud.flint.controller import LocalDomainController
from flintcloud.runner.examples import example_config


def _write(tmp_path, name, document) -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return str(path)


def test_merge_first_file_wins_two_levels_deep():
    config = FlintConfig.from_documents([
        ("a.json", {"Libraries": {"x": "external"}, "LocalDomain": {"type": "point"}}),
        ("b.json", {"Libraries": {"x": "internal", "y": "external"},
                    "LocalDomain": {"type": "spatial_tiled", "start_date": "2000/01/01"},
                    "Pools": [{"P": 1}]}),
    ])
    assert config.data["Libraries"] == {"x": "external", "y": "external"}
    assert config.data["LocalDomain"] == {"type": "point", "start_date": "2000/01/01"}
    assert config.source_of(("Libraries", "y")) == "b.json"
    assert config.source_of(("Libraries", "x")) == "a.json"
    assert config.source_of(("Pools", 0)) == "b.json"


def test_pools_given_as_an_object_are_ordered_alphabetically():
    config = example_config("point")
    config.data["Pools"] = {"Pool 3": 3.0, "Pool 1": 1.0, "Pool 2": 2.0}
    controller = LocalDomainController(config)
    assert controller.land_unit.pool_names == ["Pool 1", "Pool 2", "Pool 3"]
    assert controller.land_unit.operations.values[:, 0].tolist() == [1.0, 2.0, 3.0]


def test_pool_forms_are_equivalent():
    for pools in ([{"Pool 1": 5.0}, "Pool 2", {"name": "Pool 3", "value": 7.0}],
                  {"Pool 1": 5.0, "Pool 2": {"description": "x"}, "Pool 3": {"value": 7.0}}):
        config = example_config("point")
        config.data["Pools"] = pools
        values = LocalDomainController(config).land_unit.operations.values[:, 0]
        assert values.tolist() == [5.0, 0.0, 7.0]


def test_format_path_quotes_keys_that_are_not_identifiers():
    assert format_path(("Pools", 0, "Pool 1")) == 'Pools[0]["Pool 1"]'
    assert format_path(("Modules", "TestModule1", "settings", "ratio_1")) == \
        "Modules.TestModule1.settings.ratio_1"


def test_malformed_json_names_file_line_and_column(tmp_path):
    path = _write(tmp_path, "broken.json", '{"LocalDomain": {"type": "point",}}')
    with pytest.raises(ConfigError, match=r"broken\.json: malformed JSON at line 1 column 34: Expecting property name"):
        load_config([path])


def test_nan_is_not_json(tmp_path):
    path = _write(tmp_path, "nan.json", '{"Pools": [{"P": NaN}]}')
    with pytest.raises(ConfigError, match="nan.json: malformed JSON"):
        load_config([path])


def test_top_level_must_be_an_object(tmp_path):
    with pytest.raises(ConfigError, match="list.json: the top level must be a JSON object"):
        load_config([_write(tmp_path, "list.json", "[1, 2]")])


def _point_files(tmp_path, edit) -> list[str]:
    documents = [(name, doc) for name, doc in
                 __import__("flintcloud.models.example.defaults", fromlist=["x"]).point_config()]
    edit(documents[0][1])
    return [_write(tmp_path, name, doc) for name, doc in documents]


def _error_for(tmp_path, edit) -> str:
    config = load_config(_point_files(tmp_path, edit))
    with pytest.raises(ConfigError) as caught:
        LocalDomainController(config, output_dir=tmp_path).run()
    return caught.value.message


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d["Modules"]["TestModule1"]["settings"].update(pool_2="Pool 9"),
     "point_example.json: Modules.TestModule1.settings.pool_2: no pool named 'Pool 9'"),
    (lambda d: d["Modules"]["TestModule2"]["settings"].update(variable_3="nope"),
     "point_example.json: Modules.TestModule2.settings.variable_3: no variable named 'nope'"),
    (lambda d: d["Modules"].update(NoSuchModule={"library": "internal.flint", "order": 7}),
     "point_example.json: Modules.NoSuchModule.library: library 'internal.flint' has no module "
     "named 'NoSuchModule'"),
    (lambda d: d["Modules"]["TestModule3"].update(library="moja.nowhere"),
     "point_example.json: Modules.TestModule3.library: library 'moja.nowhere' is not loaded"),
    (lambda d: d["LocalDomain"].update(start_date="1920/13/01"),
     "point_example.json: LocalDomain.start_date: invalid date '1920/13/01'"),
    (lambda d: d["LocalDomain"].update(end_date="1919/01/01"),
     "point_example.json: LocalDomain.end_date: end_date must be after start_date"),
    (lambda d: d["Modules"]["TestModule1"]["settings"].update(ratio_1="0.4"),
     "point_example.json: Modules.TestModule1.settings.ratio_1: expected a number, got \"0.4\""),
    (lambda d: d["Modules"]["TestModule1"].update(order=4),
     "point_example.json: Modules.TestModule2.order: module order 4 is also used by 'TestModule1'"),
    (lambda d: d["Pools"].__setitem__(1, {"Pool 2": -1.0}),
     "point_example.json: Pools[1][\"Pool 2\"]: pool 'Pool 2': initValue cannot be less than 0.0"),
    (lambda d: d["LocalDomain"].update(type="moon"),
     "point_example.json: LocalDomain.type: Unknown LocalDomain Type 'moon'"),
    (lambda d: d["LocalDomain"].pop("sequencer"),
     "point_example.json: LocalDomain.sequencer: required key is missing"),
])
def test_bad_config_errors_name_file_and_path(tmp_path, edit, expected):
    assert _error_for(tmp_path, edit).startswith(expected)


def test_unknown_library_in_libraries_section(tmp_path):
    paths = _point_files(tmp_path, lambda d: None)
    extra = _write(tmp_path, "libs.extra.json", {"Libraries": {"moja.missing": "external"}})
    with pytest.raises(ConfigError, match=r"libs\.extra\.json: Libraries\[\"moja\.missing\"\]: unknown library"):
        LocalDomainController(load_config([*paths, extra]))


def test_empty_time_series_is_an_error(tmp_path):
    from flintcloud.models.rothc.defaults import rothc_config

    documents = rothc_config()
    documents[0][1]["Variables"][9]["openPanEvap"]["transform"]["data"] = []
    paths = [_write(tmp_path, name, doc) for name, doc in documents]
    with pytest.raises(ConfigError, match=r"point_rothc_example\.json: Variables\[9\]\.openPanEvap"
                                          r"\.transform\.data: a time series needs at least one value"):
        LocalDomainController(load_config(paths))


def test_missing_variable_named_by_local_domain(tmp_path):
    def edit(document):
        document["Variables"] = [v for v in document["Variables"] if "landUnitBuildSuccess" not in v]

    assert _error_for(tmp_path, edit).startswith(
        "point_example.json: LocalDomain.landUnitBuildSuccess: names variable 'landUnitBuildSuccess'")
