"""Untrusted JSON and YAML documents: no anchors or aliases, bounded nesting."""

from __future__ import annotations

import pytest

from flintcloud.errors import MAX_TEXT_CHARS, InputError, InputProblems, clip
from flintcloud.io.documents import MAX_NESTING, DocumentError, parse_json, parse_yaml


def test_parse_yaml_reads_plain_documents():
    assert parse_yaml("a: [1, {b: x}]\nc: 2015\n") == {"a": [1, {"b": "x"}], "c": 2015}
    assert parse_yaml('{"json": [true, null]}') == {"json": [True, None]}


@pytest.mark.parametrize("text", [
    "a: &x [1, 2]\nb: *x\n",         # anchor and alias
    "a: &x 1\n",                      # an anchor alone
    "a: [1]\nb: *x\n",                # an alias of nothing
    "base: &b {k: 1}\nother:\n  <<: *b\n",  # merge keys are aliases too
])
def test_parse_yaml_refuses_anchors_and_aliases(text):
    with pytest.raises(DocumentError, match="anchors and aliases"):
        parse_yaml(text)


def test_parse_yaml_and_json_bound_nesting():
    assert parse_yaml("[" * MAX_NESTING + "]" * MAX_NESTING) is not None
    for deep in ("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1), "[" * 100_000):
        with pytest.raises(DocumentError, match=f"nested more than {MAX_NESTING} levels"):
            parse_yaml(deep)
    with pytest.raises(DocumentError, match="nested more than"):
        parse_json("[" * 100_000 + "]" * 100_000)  # past the C scanner's own guard
    with pytest.raises(DocumentError, match="nested more than"):
        parse_json('{"a": ' * (MAX_NESTING + 1) + "1" + "}" * (MAX_NESTING + 1))
    assert parse_json('{"a": ' * MAX_NESTING + "1" + "}" * MAX_NESTING)


def test_errors_clip_the_values_they_quote():
    huge = "x" * 1_000_000
    error = InputError(f"value {huge!r} is not an integer", field=huge, hint=huge)
    assert len(error.message) < 3 * MAX_TEXT_CHARS
    assert "1,000,026 characters, cut" in error.detail
    assert clip("short") == "short"
    problems = InputProblems([InputError(f"problem {n}") for n in range(1000)])
    assert len(problems.problems) == 1000
    assert "problem 49" in problems.detail and "problem 50\n" not in problems.detail
    assert problems.detail.endswith("… and 950 more")


def test_project_yaml_with_an_alias_is_an_input_error_naming_the_file(tmp_path):
    from flintcloud.gcbm.inputs.attributes import load_document

    path = tmp_path / "project.yaml"
    path.write_text("start_year: &y 2010\nend_year: *y\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"project.yaml: YAML anchors and aliases .* at line 1"):
        load_document(path)
