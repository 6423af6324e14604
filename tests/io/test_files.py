"""Whole files only: a file written through `atomic_path` appears complete or not at all, and
`replace_entries` swaps a finished staging folder's entries into place."""

from __future__ import annotations

import pytest

from flintcloud.io import files


def test_an_atomic_file_appears_only_when_complete(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with files.atomic_path(target) as temporary:
        temporary.write_text("whole")
        assert not target.exists()
    assert target.read_text() == "whole"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_a_failed_atomic_write_leaves_the_earlier_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("earlier")
    with pytest.raises(OSError, match="disk full"), files.atomic_path(target) as temporary:
        temporary.write_text("half")
        raise OSError("disk full")
    assert target.read_text() == "earlier"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_replace_entries_swaps_in_the_staged_ones_and_keeps_the_rest(tmp_path):
    folder, staging = tmp_path / "out", tmp_path / "out" / ".staging"
    (folder / "cog").mkdir(parents=True)
    (folder / "cog" / "old.tif").write_text("old")
    (folder / "keep.txt").write_text("kept")
    (folder / "a.csv").write_text("old")
    (staging / "cog").mkdir(parents=True)
    (staging / "cog" / "new.tif").write_text("new")
    (staging / "a.csv").write_text("new")
    files.replace_entries(staging, folder)
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == \
        ["a.csv", "cog", "cog/new.tif", "keep.txt"]
    assert (folder / "a.csv").read_text() == "new"
