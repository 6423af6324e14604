"""The modules' settings read from and written into a project's files (ConfigDocuments): the
feature projects' own configuration reads back as settings that write the same files, and a
module switched off and on again is the project's configuration again."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import pytest

from flintcloud.gcbm.inputs.config import ConfigDocuments
from flintcloud.gcbm.inputs.edit import find_config_dir
from flintcloud.gcbm.project import config as engine_config
from flintcloud.gcbm.project.modules import MODULES
from flintcloud.gcbm.science.pools import POOL_BY_NAME
from tests.conftest import shared_path


def _project(tmp_path: Path, name: str) -> Path:
    with zipfile.ZipFile(shared_path("data", "gcbm-features", name, "project.zip")) as archive:
        archive.extractall(tmp_path / name)
    return find_config_dir(tmp_path / name)


@pytest.mark.parametrize("name", ["growth_multipliers", "disturbance_order", "multi_spu"])
def test_a_projects_settings_write_its_own_files_again(tmp_path, name):
    documents = ConfigDocuments.load(_project(tmp_path, name))
    before = copy.deepcopy(documents._all())
    documents.apply(documents.settings())
    assert documents._all() == before


def test_growth_multipliers_read_switched_off_and_on(tmp_path):
    documents = ConfigDocuments.load(_project(tmp_path, "growth_multipliers"))
    before = copy.deepcopy(documents._all())
    settings = documents.settings()
    assert settings.growth_multipliers is not None
    assert settings.growth_multipliers.model_dump() == {"enabled": True, "series": None}
    off = settings.model_copy(update={"growth_multipliers": settings.growth_multipliers
                                      .model_copy(update={"enabled": False})})
    documents.apply(off)
    assert documents.module("GrowthMultiplierModule")["enabled"] is False
    assert documents.settings().growth_multipliers.enabled is False  # type: ignore[union-attr]
    documents.apply(settings)
    assert documents._all() == before


def test_disturbance_order_read_and_removed(tmp_path):
    documents = ConfigDocuments.load(_project(tmp_path, "disturbance_order"))
    settings = documents.settings()
    assert settings.disturbance_order is not None
    assert settings.disturbance_order.user == ["Clearcut harvesting with salvage", "Wildfire"]
    documents.apply(settings.model_copy(update={"disturbance_order": None}))
    assert documents.variable("user_disturbance_order") is None
    assert documents.settings().disturbance_order is None


def test_the_engines_module_names_and_output_item_options_are_the_declarations():
    from typing import get_args

    from flintcloud.gcbm.outputs import geotiffs
    from flintcloud.gcbm.project.modules import FluxGroup, OutputItem

    declared = {module.name for module in MODULES}
    assert engine_config.MAIN_MODULES | engine_config.OUTPUT_MODULES == \
        declared - {"CBMSpinupSequencer", "CBMSpinupDisturbanceModule"}
    # what an item may say is what the engine's writer reads
    assert set(OutputItem.model_json_schema(by_alias=True)["properties"]) <= geotiffs.ITEM_KEYS
    data_types = get_args(OutputItem.model_fields["variable_data_type"].annotation)
    assert set(data_types) == set(geotiffs.DATA_TYPES)
    variable, _ = get_args(OutputItem.model_fields["variable_name"].annotation)  # X | None
    assert set(get_args(variable)) == geotiffs.VARIABLES
    assert set(get_args(FluxGroup.model_fields["flux_source"].annotation)) == \
        geotiffs.FLUX_SOURCES | {"any"}
    schema = OutputItem.model_json_schema()
    assert schema["$defs"]["PoolName"]["enum"] == list(POOL_BY_NAME)


def test_event_conditions_are_accepted_and_their_shape_checked(tmp_path):
    """gcbm-features/disturbance_order (ordering, event and listener conditions) validates as
    the engine runs it; a condition that is not [name, comparison, value] is named."""
    from flintcloud.errors import InputProblems
    from flintcloud.gcbm.inputs import validate_inputs

    config_dir = _project(tmp_path, "disturbance_order")
    assert validate_inputs(config_dir.parent).form == "project"
    layer = config_dir.parent / "layers" / "tiled" / "extra_events.json"
    document = json.loads(layer.read_text())
    assert document["attributes"]["2"]["conditions"] == [["age", ">=", 100]]
    document["attributes"]["2"]["conditions"] = [["age", ">="], "old"]
    layer.write_text(json.dumps(document))
    with pytest.raises(InputProblems) as raised:
        validate_inputs(config_dir.parent)
    assert [problem.field for problem in raised.value.problems] == [
        "attributes['2'].conditions[0]", "attributes['2'].conditions[1]"]
