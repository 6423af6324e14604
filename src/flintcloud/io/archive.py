"""Safe extraction of uploaded zip archives (the CLI's and the service's).

A member is refused, before anything is written, when its name is absolute, has a drive letter,
a backslash or a `..` part, when it is a symbolic link or encrypted, or when it is compressed
more than `max_ratio` times; every such member is reported at once. Sizes are checked as
declared, then counted on the bytes actually decompressed (a zip's declared sizes can lie), so
a zip bomb stops at `max_bytes`. Both bounds also hold the disk's free space: extraction never
leaves less than MIN_FREE_BYTES free (checked before, and as it streams).
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from flintcloud.errors import InputError, InputProblems

MAX_BYTES = 8 * 2**30  # uncompressed total; a GCBM tile layer is 16-64 MB
MAX_MEMBERS = 10_000
MIN_FREE_BYTES = 256 * 2**20  # what extraction leaves free on the target's disk
_DISK_CHECK_BYTES = 64 * 2**20  # free space is looked at again after this many bytes
_CHUNK = 2**20
_DRIVE = re.compile(r"^[A-Za-z]:")
# macOS's Finder adds these to every zip it makes; they are metadata, not inputs.
_JUNK_DIR = "__MACOSX"


def _is_junk(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and (parts[0] == _JUNK_DIR or parts[-1].startswith("._")
                            or parts[-1] == ".DS_Store")


def _member_problem(member: zipfile.ZipInfo, source: str,
                    max_ratio: float | None) -> InputError | None:
    name = member.filename
    if name.startswith("/") or _DRIVE.match(name) or "\\" in name:
        return InputError(f"member {name!r} has an absolute or non-portable path", source=source,
                          hint="zip members must be relative paths with '/' separators")
    if ".." in PurePosixPath(name).parts:
        return InputError(f"member {name!r} points outside the archive ('..')", source=source)
    if stat.S_ISLNK(member.external_attr >> 16):
        return InputError(f"member {name!r} is a symbolic link", source=source,
                          hint="links are not extracted; zip the files themselves")
    if member.flag_bits & 0x1:
        return InputError(f"member {name!r} is encrypted", source=source)
    if max_ratio and member.compress_size and member.file_size > max_ratio * member.compress_size:
        return InputError(f"member {name!r} is compressed "
                          f"{member.file_size / member.compress_size:.0f} times, more than "
                          f"{max_ratio:g} (a zip bomb?)", source=source)
    return None


def extract_zip(archive: str | Path, target: str | Path, *, max_bytes: int = MAX_BYTES,
                max_members: int = MAX_MEMBERS, max_ratio: float | None = None) -> Path:
    """Extract `archive` into `target` (created if needed), or raise InputError naming the
    archive and the offending member (InputProblems listing every one). Returns `target`."""
    archive, target = Path(archive), Path(target)
    source = archive.name
    try:
        zipped = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as err:
        raise InputError(f"not a readable zip file: {err}", source=source) from err
    with zipped:
        members = [member for member in zipped.infolist() if not _is_junk(member.filename)]
        if len(members) > max_members:
            raise InputError(f"{len(members)} members; at most {max_members} are accepted",
                             source=source)
        problems = [problem for member in members
                    if (problem := _member_problem(member, source, max_ratio))]
        declared = sum(member.file_size for member in members)
        if declared > max_bytes:
            problems.append(InputError(f"more than {max_bytes:,} bytes once decompressed "
                                       f"({declared:,} declared)", source=source,
                                       hint="upload fewer or smaller files"))
        room = free_bytes(target) - MIN_FREE_BYTES
        if declared <= max_bytes and declared > room:
            problems.append(_no_room(source, declared, room))
        if problems:
            raise InputProblems(problems, source=source)
        target.mkdir(parents=True, exist_ok=True)
        budget = [max_bytes]
        for member in members:
            destination = target.joinpath(*PurePosixPath(member.filename).parts)
            if member.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            _extract_member(zipped, member, destination, budget, source, max_bytes)
    return target


def free_bytes(path: Path) -> int:
    """Free bytes on the disk of `path` (or of its nearest existing parent)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return shutil.disk_usage(".").free


def _no_room(source: str, needed: int, room: int) -> InputError:
    return InputError(f"needs {needed:,} bytes once decompressed; the server's disk has room "
                      f"for {max(room, 0):,} (it keeps {MIN_FREE_BYTES:,} free)", source=source,
                      hint="upload fewer or smaller files, or try again when there is space")


def _extract_member(zipped: zipfile.ZipFile, member: zipfile.ZipInfo, destination: Path,
                    budget: list[int], source: str, max_bytes: int) -> None:
    try:
        with zipped.open(member) as data, open(destination, "xb") as out:
            unchecked = 0
            while chunk := data.read(_CHUNK):
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise InputError(f"more than {max_bytes:,} bytes once decompressed",
                                     source=source, hint="upload fewer or smaller files")
                unchecked += len(chunk)
                if unchecked >= _DISK_CHECK_BYTES:  # the disk is shared: look again as it fills
                    unchecked = 0
                    room = free_bytes(destination) - MIN_FREE_BYTES
                    if room < len(chunk):
                        raise _no_room(source, max_bytes - budget[0], room)
                out.write(chunk)
    except FileExistsError:
        raise InputError(f"member {member.filename!r} appears twice", source=source) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, RuntimeError) as err:
        raise InputError(f"member {member.filename!r} cannot be extracted: {err}",
                         source=source) from err

