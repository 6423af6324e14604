"""`flintcloud gcbm configure`: settings and modules of a prepared project edited in place; a bad
value changes nothing and is one line of the error, exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flintcloud.gcbm.inputs import get_config
from flintcloud.gcbm.run import run_gcbm
from tests.gcbm.inputs.conftest import cbm_defaults

SERIES = [{"disturbance_type": "Wildfire", "forest_type": "Softwood", "time_step": 1,
           "multiplier": 0.5}]
ITEM = {"data_name": "Merch_C", "pool_name": ["SoftwoodMerch", "HardwoodMerch"]}


def _flintcloud(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flintcloud", *map(str, args)],
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory) -> Path:
    from flintcloud.gcbm.inputs.demo import write_demo_project

    return write_demo_project(tmp_path_factory.mktemp("configure") / "project",
                              cbm_defaults_path=cbm_defaults()).parent


def _files(project: Path) -> dict[str, bytes]:
    return {path.relative_to(project).as_posix(): path.read_bytes()
            for path in sorted(project.rglob("*")) if path.is_file()}


def test_configure_round_trip_then_run(demo_project, tmp_path):
    before = _files(demo_project)
    done = _flintcloud("gcbm", "configure", demo_project, "--set", "end_year=2014",
                       "--enable", "GrowthMultiplierModule",
                       "--set", f"growth_multipliers.series={json.dumps(SERIES)}",
                       "--set", 'disturbance_order.user=["Wildfire", '
                                '"Clearcut harvesting with salvage"]',
                       "--set", f"outputs.items={json.dumps([ITEM])}",
                       "--set", 'outputs.geotiff_indicators=["NPP"]')
    assert done.returncode == 0, done.stderr
    assert "GrowthMultiplierModule on" in done.stderr
    settings = get_config(demo_project)
    assert settings.end_year == 2014
    assert settings.growth_multipliers is not None and settings.growth_multipliers.enabled
    assert [row.model_dump() for row in settings.growth_multipliers.series or []] == SERIES
    assert settings.disturbance_order is not None and \
        settings.disturbance_order.user == ["Wildfire", "Clearcut harvesting with salvage"]
    assert settings.outputs is not None and settings.outputs.geotiff_indicators == ["NPP"]
    assert [item.module_item() for item in settings.outputs.items or []] == \
        [{**ITEM, "enabled": True, "variable_data_type": "float",
          "on_notification": "OutputStep", "apply_area_adjustment": False,
          "subtract_previous_value": False}]
    after = _files(demo_project)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"config/localdomain.json", "config/modules_cbm.json",
                       "config/modules_output.json", "config/variables.json"}
    modules = json.loads(after["config/modules_cbm.json"])["Modules"]
    orders = sorted((entry["order"], name) for name, entry in modules.items())
    assert [name for _, name in orders].index("GrowthMultiplierModule") == \
        [name for _, name in orders].index("CBMGrowthModule") - 1  # GCBM's template's place

    outputs = run_gcbm(demo_project, tmp_path / "out", mosaics=False)
    manifest = json.loads((outputs.output_dir / "manifest.json").read_text())
    assert [item["name"] for item in manifest["items"]] == ["NPP", "Merch_C"]
    assert len(list((outputs.output_dir / "Merch_C").rglob("*.tif"))) == 5

    off = _flintcloud("gcbm", "configure", demo_project, "--disable", "growth_multipliers",
                      "--set", "outputs.items=[]")
    assert off.returncode == 0, off.stderr
    settings = get_config(demo_project)
    assert settings.growth_multipliers is not None and not settings.growth_multipliers.enabled
    assert settings.outputs is not None and settings.outputs.items is None
    modules = json.loads((demo_project / "config/modules_cbm.json").read_text())["Modules"]
    assert modules["GrowthMultiplierModule"]["enabled"] is False


def test_configure_bad_values_change_nothing_one_line_each(demo_project):
    before = _files(demo_project)
    done = _flintcloud("gcbm", "configure", demo_project, "--set", "end_year=soon",
                       "--set", "nothing", "--enable", "CBMGrowthModule", "--enable", "Nope")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "error: gcbm configure: 4 problems:"
    assert lines[1:] == [
        "  - --set: 'nothing': expected key=value (a dotted settings path)",
        "  - --enable: 'CBMGrowthModule' is not an optional module; optional: "
        "CBMAggregatorSQLiteWriter, CBMSpinupSequencer, GrowthMultiplierModule",
        "  - --enable: 'Nope' is not an optional module; optional: "
        "CBMAggregatorSQLiteWriter, CBMSpinupSequencer, GrowthMultiplierModule",
        "  - settings: end_year: Input should be a valid integer, unable to parse string as "
        "an integer"]
    # values of the right types the database refuses: every one named, nothing written
    refused = _flintcloud("gcbm", "configure", demo_project,
                          "--set", 'disturbance_order.default=["Volcano", "Wildfire", "Flood"]',
                          "--set", 'outputs.items=[{"data_name": "NPP", "variable_name": "age"}]')
    assert refused.returncode == 2
    assert [line for line in refused.stderr.splitlines() if line.startswith("  - ")] == [
        "  - settings: disturbance_order.default[0]: unknown disturbance type 'Volcano': not "
        "in gcbm_input.db's disturbance_type table",
        "  - settings: disturbance_order.default[2]: unknown disturbance type 'Flood': not in "
        "gcbm_input.db's disturbance_type table",
        "  - settings: outputs.items[0].data_name: 'NPP' is one of GCBM's standard items: "
        "name yours otherwise (switch the standard ones with outputs.geotiff_indicators)"]
    assert _files(demo_project) == before
