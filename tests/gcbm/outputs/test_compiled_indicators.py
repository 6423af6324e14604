"""The indicator definitions: the packaged file, its checks, and its documentation."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from flintcloud.errors import ConfigError
from flintcloud.gcbm.outputs.compiled import load_indicators
from tests.conftest import PROJECT_ROOT


def _definitions(tmp_path, edit) -> str:
    packaged = resources.files("flintcloud.gcbm.outputs.compiled").joinpath("indicators.json")
    document = json.loads(packaged.read_text("utf-8"))
    edit(document)
    path = tmp_path / "indicators.json"
    path.write_text(json.dumps(document))
    return path


def test_packaged_definitions_load():
    indicators = load_indicators()
    assert len(indicators.fluxes) == 50
    assert indicators.pool_indicators["Total Ecosystem"] == "All biomass"
    assert len(indicators.pool_collections["All biomass"]) == 21  # the ecosystem pools


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["fluxes"]["CO2Production"].update({"from": "Everything"}),
     r"fluxes\.CO2Production\.from: no pool collection named 'Everything'"),
    (lambda d: d["fluxes"]["CO2Production"].update({"change_type": "Sometimes"}),
     r"fluxes\.CO2Production\.change_type: expected one of 'Annual Process'"),
    (lambda d: d["flux_collections"]["Gross Growth"].append("GrossGrowth_XX"),
     r"flux_collections\.Gross Growth\[2\]: no flux named 'GrossGrowth_XX'"),
    (lambda d: d["stock_changes"]["NBP"].update({"minus": ["Gross Growth"]}),
     r"stock_changes\.NBP: unknown key\(s\) minus"),
    (lambda d: d["pool_indicators"].update({"Peat": "Peatland"}),
     r"pool_indicators\.Peat: no pool collection named 'Peatland'"),
    (lambda d: d["annual_summary"]["npp_tc_per_yr"].update({"indicators": ["NPP!"]}),
     r"annual_summary\.npp_tc_per_yr\.indicators\[0\]: no indicator named 'NPP!'"),
    (lambda d: d.update({"format": "compileresults"}), r"indicators\.json: format: expected"),
    (lambda d: d.pop("fluxes"), r"indicators\.json: fluxes: missing"),
])
def test_bad_definitions_name_file_and_path(tmp_path, edit, message):
    path = _definitions(tmp_path, edit)
    with pytest.raises(ConfigError, match=message):
        load_indicators(path)


def test_repeated_definition_names_are_refused(tmp_path):
    path = tmp_path / "indicators.json"
    path.write_text('{"format": "flintcloud-gcbm-indicators/1", "pool_collections": '
                    '{"CO2": ["CO2"], "CO2": ["CO"]}}')
    with pytest.raises(ConfigError, match=r"indicators\.json: not valid JSON: repeated key"):
        load_indicators(path)


def test_every_reported_indicator_is_documented():
    """docs/compiled-indicators.md explains each stock change, pool indicator and flux
    collection by name (in backticks), so a new definition needs a line of documentation."""
    text = (PROJECT_ROOT / "docs" / "compiled-indicators.md").read_text()
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # code blocks are not names
    documented = set(re.findall(r"`([^`]+)`", text))
    indicators = load_indicators()
    names = {change.name for change in indicators.stock_changes}
    names |= set(indicators.pool_indicators) | set(indicators.flux_collections)
    names |= {column.name for column in indicators.annual_summary}
    assert sorted(names - documented) == []
