"""One settings model for every form, and one problem carrier that collects then raises."""

from __future__ import annotations

import pytest

from flintcloud.errors import InputError, InputProblems
from flintcloud.gcbm.inputs.settings import (
    GcbmSettings,
    by_layer_name,
    from_former_names,
    merge,
    merge_patch,
    parse_settings,
)


def test_input_problems_collects_then_raises_itself():
    problems = InputProblems()
    problems.raise_if_any("nothing.yaml")  # no problem: no error
    problems.add("must be >= 1", source="a.yaml", field="spinup.minimum_rotation")
    problems.add_error(InputProblems([InputError("not a date", field="end_date")]))
    with pytest.raises(InputProblems) as caught:
        problems.raise_if_any("inputs")
    assert caught.value is problems and len(caught.value.problems) == 2  # nested ones flattened
    assert str(caught.value) == caught.value.message == (
        "inputs: 2 problems:\n  - a.yaml: spinup.minimum_rotation: must be >= 1\n"
        "  - end_date: not a date")
    summarised = InputProblems(problems.problems, detail="cannot run yet")
    assert summarised.message == "cannot run yet" and summarised.to_dict()["errors"][1][
        "field"] == "end_date"
STORED = GcbmSettings(start_year=2010, end_year=2020, admin_boundary="British Columbia",
                      eco_boundary="Taiga Plains")


def test_settings_merge_keeps_what_is_left_out():
    stored = GcbmSettings.model_validate({**STORED.model_dump(exclude_unset=True),
                                          "layers": {"fire": {"attributes": {"1": "Wildfire"},
                                                              "year": 2012}}})
    given = GcbmSettings.model_validate(by_layer_name(
        {"end_year": 2015, "layers": {"fire_moja.tiff": {"attributes": {"2": "Wildfire"}}}}))
    merged = merge(stored, given)
    assert (merged.start_year, merged.end_year) == (2010, 2015)
    assert merged.layers["fire"].model_dump(exclude_unset=True) == {
        "attributes": {"2": "Wildfire"}, "year": 2012}  # a table is replaced as a whole
    assert merged.model_dump(exclude_unset=True).keys() == {
        "start_year", "end_year", "admin_boundary", "eco_boundary", "layers"}  # as given
    with pytest.raises(InputProblems, match="end_year 2005 is before start_year 2010"):
        merge(stored, GcbmSettings(end_year=2005))


def test_settings_patch_accepts_former_names():
    patch = from_former_names({"start_date": "2011-01-01", "end_date": "2014-01-01",
                               "variables": {"eco_boundary": None}})
    patched = merge_patch(STORED.model_dump(exclude_unset=True), patch)
    assert patched == {"start_year": 2011, "end_year": 2013, "admin_boundary": "British Columbia"}
    with pytest.raises(InputProblems) as caught:
        from_former_names({"end_date": "2014-06-01", "modules": {}})
    assert [p.field for p in caught.value.problems] == ["end_date", "modules"]


def test_settings_hold_a_period_out_of_order_until_it_is_fixed():
    """Stored settings may end before they start (that stops a run, by end_year); a merge
    whose years disagree is refused, one that sets no year is not."""
    stored = parse_settings({"start_year": 2010, "end_year": 2005}, source="settings")
    assert (stored.start_year, stored.end_year) == (2010, 2005)
    assert merge(stored, GcbmSettings(admin_boundary="Alberta")).end_year == 2005
    with pytest.raises(InputProblems) as caught:
        merge(stored, GcbmSettings(start_year=2011))
    assert [problem.field for problem in caught.value.problems] == ["end_year"]
