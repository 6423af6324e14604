"""Uploaded zips are extracted only when every member is safe, within size limits."""

from __future__ import annotations

import stat
import zipfile

import pytest

from flintcloud.errors import InputError, InputProblems
from flintcloud.io.archive import extract_zip


def _zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            if isinstance(data, zipfile.ZipInfo):
                archive.writestr(data, b"target")
            else:
                archive.writestr(name, data)
    return path


def test_extracts_files_and_skips_macos_metadata(tmp_path):
    archive = _zip(tmp_path / "ok.zip", {"a/b.txt": "hello", "__MACOSX/a/._b.txt": "x",
                                         "a/._c.txt": "x"})
    extract_zip(archive, tmp_path / "out")
    assert sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*")
                  if p.is_file()) == ["a/b.txt"]


@pytest.mark.parametrize(("name", "problem"), [
    ("../evil.txt", "points outside the archive"),
    ("a/../../evil.txt", "points outside the archive"),
    ("/etc/evil.txt", "absolute or non-portable path"),
    ("C:/evil.txt", "absolute or non-portable path"),
    ("a\\..\\evil.txt", "absolute or non-portable path"),
])
def test_unsafe_names_are_refused_before_anything_is_written(tmp_path, name, problem):
    archive = _zip(tmp_path / "bad.zip", {"fine.txt": "x", name: "x"})
    with pytest.raises(InputError, match=f"bad.zip: member .*{problem}"):
        extract_zip(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_symbolic_links_are_refused(tmp_path):
    link = zipfile.ZipInfo("link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = _zip(tmp_path / "link.zip", {"link": link})
    with pytest.raises(InputError, match="member 'link' is a symbolic link"):
        extract_zip(archive, tmp_path / "out")


def test_decompressed_size_is_capped(tmp_path):
    archive = _zip(tmp_path / "bomb.zip", {"zeros.bin": b"\0" * 5_000_000})
    assert archive.stat().st_size < 100_000
    with pytest.raises(InputError, match="more than 1,000,000 bytes once decompressed"):
        extract_zip(archive, tmp_path / "out", max_bytes=1_000_000)


def test_member_count_is_capped(tmp_path):
    archive = _zip(tmp_path / "many.zip", {f"{i}.txt": "x" for i in range(20)})
    with pytest.raises(InputError, match="20 members; at most 10"):
        extract_zip(archive, tmp_path / "out", max_members=10)


def test_not_a_zip(tmp_path):
    (tmp_path / "fake.zip").write_text("hello")
    with pytest.raises(InputError, match="fake.zip: not a readable zip file"):
        extract_zip(tmp_path / "fake.zip", tmp_path / "out")


def test_every_unsafe_member_and_a_suspicious_ratio_are_reported_at_once(tmp_path):
    archive = _zip(tmp_path / "bad.zip", {"../a.txt": "x", "/b.txt": "x",
                                          "zeros.bin": b"\0" * 1_000_000})
    with pytest.raises(InputProblems) as caught:
        extract_zip(archive, tmp_path / "out", max_ratio=100)
    assert [problem.detail.split(" ", 2)[1] for problem in caught.value.problems] == \
        ["'../a.txt'", "'/b.txt'", "'zeros.bin'"]
    assert "(a zip bomb?)" in caught.value.problems[-1].detail
    assert not (tmp_path / "out").exists()


def test_extraction_is_bounded_by_free_disk_before_writing(tmp_path, monkeypatch):
    from flintcloud.io import archive as module

    zipped = _zip(tmp_path / "big.zip", {"zeros.bin": b"\0" * 3_000_000})
    monkeypatch.setattr(module, "free_bytes", lambda path: module.MIN_FREE_BYTES + 1_000_000)
    with pytest.raises(InputError, match="needs 3,000,000 bytes once decompressed; the server's "
                                         "disk has room for 1,000,000"):
        extract_zip(zipped, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_free_disk_is_checked_again_as_it_streams(tmp_path, monkeypatch):
    """The disk is shared: free space is looked at again as the bytes are written."""
    from flintcloud.io import archive as module

    zipped = _zip(tmp_path / "big.zip", {f"zeros{n}.bin": b"\0" * 2_000_000 for n in range(4)})
    answers = iter([10**12, 10**12, 10**12, module.MIN_FREE_BYTES])  # the disk fills up
    monkeypatch.setattr(module, "free_bytes", lambda path: next(answers))
    monkeypatch.setattr(module, "_DISK_CHECK_BYTES", 1_000_000)
    with pytest.raises(InputError, match="the server's disk has room for 0"):
        extract_zip(zipped, tmp_path / "out")
    written = sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written < 8_000_000

