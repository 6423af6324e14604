"""Hand edits of a project's configuration files (gcbm/inputs/patches.py): merge patches and
their inverse, edits kept as differences from the generated file, names looked up (never
paths), and an edited project checked before it exists."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flintcloud.errors import InputProblems, NotFoundError
from flintcloud.gcbm.inputs.patches import (
    FileEdit,
    config_file_names,
    diff_patch,
    edit_file,
    file_name,
    find_file_name,
    write_edited_project,
)
from flintcloud.gcbm.inputs.settings import merge_patch
from tests.gcbm.inputs.conftest import cbm_defaults

KEYS = st.sampled_from(["a", "b", "c", "Pools", "Variables"])
SCALARS = st.one_of(st.integers(-5, 5), st.booleans(), st.text(max_size=3))
DOCUMENTS = st.recursive(SCALARS | st.lists(SCALARS, max_size=3),
                         lambda inner: st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)
PATCHES = st.recursive(SCALARS | st.none(),
                       lambda inner: st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(before=st.dictionaries(KEYS, DOCUMENTS, max_size=4),
       patches=st.lists(st.dictionaries(KEYS, PATCHES, max_size=4), min_size=1, max_size=3))
def test_diff_patch_gives_back_any_document_made_by_merge_patches(before, patches):
    after = before
    for patch in patches:
        after = merge_patch(after, patch)
    assert merge_patch(before, diff_patch(before, after)) == after


def test_edits_compose_and_an_edit_back_to_the_generated_file_goes():
    generated = {"Variables": {"x": 1, "y": {"a": 1, "b": 2}}, "Pools": {"p": 0}}
    edits = edit_file({}, generated, "variables.json", patch={"Variables": {"x": 5}})
    edits = edit_file(edits, generated, "variables.json", patch={"Variables": {"y": {"a": None}}})
    assert edits["variables.json"] == FileEdit("patch", {"Variables": {"x": 5, "y": {"a": None}}})
    assert edits["variables.json"].apply(generated) == \
        {"Variables": {"x": 5, "y": {"b": 2}}, "Pools": {"p": 0}}
    # applied to a regenerated file: the edit, not the rest of the former file
    regenerated = {"Variables": {"x": 1, "y": {"a": 1, "b": 3}, "z": 0}, "Pools": {"p": 9}}
    assert edits["variables.json"].apply(regenerated) == \
        {"Variables": {"x": 5, "y": {"b": 3}, "z": 0}, "Pools": {"p": 9}}
    back = edit_file(edits, generated, "variables.json",
                     patch={"Variables": {"x": 1, "y": {"a": 1}}})
    assert back == {}
    replaced = edit_file({}, generated, "pools_cbm.json", replacement={"Pools": {"q": 1}})
    replaced = edit_file(replaced, generated, "pools_cbm.json", patch={"Pools": {"r": 2}})
    assert replaced["pools_cbm.json"] == FileEdit("replace", {"Pools": {"q": 1, "r": 2}})
    assert FileEdit.from_json(replaced["pools_cbm.json"].to_json()) == replaced["pools_cbm.json"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    from flintcloud.gcbm.inputs.demo import write_demo_project

    return write_demo_project(tmp_path_factory.mktemp("patches") / "project",
                              cbm_defaults_path=cbm_defaults()).parent


def test_names_are_looked_up_never_used_as_paths(project):
    names = config_file_names(project / "config")
    assert names == ["localdomain.json", "pools_cbm.json", "modules_cbm.json",
                     "modules_output.json", "spinup.json", "variables.json",
                     "internal_variables.json", "provider_config.json"]
    assert find_file_name("variables", names) == find_file_name("variables.json", names) == \
        "variables.json"
    for name in ("../config/variables.json", "config/variables.json", "/etc/passwd",
                 "gcbm_config.cfg", "logging.conf", "Variables.json", "variables.json/"):
        assert find_file_name(name, names) is None
    with pytest.raises(NotFoundError, match="no configuration file '../x'"):
        file_name("../x", names)


def test_an_edited_project_is_made_only_when_it_checks(project, tmp_path):
    before = {path: path.read_bytes() for path in sorted(project.rglob("*")) if path.is_file()}
    target = tmp_path / "edited"
    bad = {"modules_cbm.json": FileEdit("patch", {"Modules": {"CBMDecayModule": {"enabled": "x"}}}),
           "variables.json": FileEdit("patch", {"Variables": {"slow_ag_to_bg_mixing_rate": 0.5}})}
    with pytest.raises(InputProblems) as refused:
        write_edited_project(project, target, bad)
    assert [(p.source, p.field) for p in refused.value.problems] == \
        [("modules_cbm.json", "Modules.CBMDecayModule.enabled")]
    assert not target.exists()
    good = {"variables.json": bad["variables.json"]}
    write_edited_project(project, target, good)
    edited = json.loads((target / "config/variables.json").read_text())
    assert edited["Variables"]["slow_ag_to_bg_mixing_rate"] == 0.5
    # unedited files are the generated ones (hard links), which never change
    assert os.path.samefile(target / "config/localdomain.json", project / "config/localdomain.json")
    assert not os.path.samefile(target / "config/variables.json",
                                project / "config/variables.json")
    assert {path: path.read_bytes() for path in sorted(project.rglob("*"))
            if path.is_file()} == before
