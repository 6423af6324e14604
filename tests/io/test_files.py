"""Folder helpers: a spread folder exists and, where the file system has the flag, is marked as
the top of a directory hierarchy (chattr +T)."""

from __future__ import annotations

import fcntl
import os
import struct

import pytest

from flintcloud.io import files


def _flags(folder) -> int:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return struct.unpack("l", fcntl.ioctl(descriptor, files._GET_FLAGS,
                                              struct.pack("l", 0)))[0]
    finally:
        os.close(descriptor)


def _takes_top_directory_flag(folder) -> bool:
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.ioctl(descriptor, files._SET_FLAGS, struct.pack("l", files._TOP_DIRECTORY))
        return True
    except OSError:
        return False
    finally:
        os.close(descriptor)


def test_a_spread_folder_is_made_with_its_parents_and_subfolders(tmp_path):
    folder = tmp_path / "a" / "b"
    files.make_spread_folder(folder, ["NPP", "cog"])
    (folder / "cog" / "kept.tif").write_bytes(b"x")
    files.make_spread_folder(folder, ["cog"])  # again: what is there stays
    assert sorted(p.name for p in folder.iterdir()) == ["NPP", "cog"]
    assert (folder / "cog" / "kept.tif").read_bytes() == b"x"


def test_a_spread_folder_is_marked_top_of_hierarchy_where_possible(tmp_path):
    probe = tmp_path / "probe"
    probe.mkdir()
    if not _takes_top_directory_flag(probe):
        pytest.skip("this file system has no top-of-hierarchy flag (not ext2/3/4)")
    folder = tmp_path / "spread"
    files.make_spread_folder(folder)
    assert _flags(folder) & files._TOP_DIRECTORY
