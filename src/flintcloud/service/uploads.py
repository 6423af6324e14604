"""Receiving files safely: sanitised names, size-capped streaming copies, inspected zip extraction.

Nothing here decides where an accepted file ends up; callers write into a staging directory and
move the whole upload into place only once every file passed validation.
"""

from __future__ import annotations

import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from flintcloud.errors import InputError
from flintcloud.service.errors import PayloadTooLargeError, UnsupportedFileError

CHUNK_BYTES = 1024 * 1024
MAX_NAME_LENGTH = 128
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str | None) -> str:
    """A file name that is safe on any filesystem: the last path component only (whatever the
    separator), ASCII letters, digits, `.`, `_`, `-`; no leading dots; at most 128 characters.

    `../x.tif` -> `x.tif`, `C:\\data\\a b.tiff` -> `a_b.tiff`, `/etc/passwd` -> `passwd`."""
    last = re.split(r"[\\/]", name or "")[-1]
    ascii_name = unicodedata.normalize("NFKD", last).encode("ascii", "ignore").decode()
    cleaned = _UNSAFE.sub("_", ascii_name).lstrip("._-")
    if len(cleaned) > MAX_NAME_LENGTH:
        stem, dot, suffix = cleaned.rpartition(".")
        cleaned = (stem[: MAX_NAME_LENGTH - len(suffix) - 1] + dot + suffix) if dot and \
            len(suffix) < 16 else cleaned[:MAX_NAME_LENGTH]
    if not cleaned or cleaned in {".", ".."}:
        raise InputError(f"file name {name!r} has no usable characters", field="filename")
    return cleaned


def copy_limited(source: BinaryIO, destination: Path, *, limit: int, label: str) -> int:
    """Stream `source` into `destination` in 1 MiB chunks; 413 as soon as it exceeds `limit`."""
    written = 0
    with destination.open("wb") as target:
        while chunk := source.read(CHUNK_BYTES):
            written += len(chunk)
            if written > limit:
                target.close()
                destination.unlink(missing_ok=True)
                raise PayloadTooLargeError(f"larger than the limit of {limit} bytes", source=label)
            target.write(chunk)
    return written


@dataclass(frozen=True)
class ZipLimits:
    max_members: int
    max_total_bytes: int
    max_ratio: float


def _member_problem(info: zipfile.ZipInfo, limits: ZipLimits) -> str | None:
    name = info.filename
    posix = name.replace("\\", "/")
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic links are not allowed"
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        return "absolute paths are not allowed"
    if ".." in PurePosixPath(posix).parts:
        return "'..' would write outside the upload"
    if info.flag_bits & 0x1:
        return "encrypted members are not supported"
    if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
        return (f"compression ratio {info.file_size / info.compress_size:.0f} exceeds "
                f"{limits.max_ratio:g} (zip bomb?)")
    return None


def extract_zip(archive_path: Path, destination: Path, limits: ZipLimits, *,
                label: str) -> list[PurePosixPath]:
    """Extract a zip after inspecting every member; returns the extracted files' relative paths.

    Rejected as a whole (422, one error per bad member) for: `..` or absolute member names,
    symlinks, encryption, too many members, too much uncompressed data or a suspicious
    compression ratio. Every path component is re-sanitised; sizes are counted while writing,
    so a header that lies about its size gains nothing."""
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise UnsupportedFileError(f"not a readable zip archive: {err}", [], source=label) from err
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise UnsupportedFileError(
                f"{len(members)} members; at most {limits.max_members} are accepted",
                [{"field": label, "message": "too many members"}], source=label)
        errors = [{"field": f"{label}:{info.filename}", "message": problem}
                  for info in members if (problem := _member_problem(info, limits))]
        declared = sum(info.file_size for info in members)
        if declared > limits.max_total_bytes:
            errors.append({"field": label, "message": f"{declared} bytes once extracted; the limit "
                                                      f"is {limits.max_total_bytes}"})
        if errors:
            raise UnsupportedFileError(
                "zip rejected: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                errors, source=label)
        extracted, total = [], 0
        for info in members:
            if info.is_dir():
                continue
            relative = PurePosixPath(*(safe_filename(part) for part in
                                       PurePosixPath(info.filename.replace("\\", "/")).parts))
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source:
                try:
                    total += copy_limited(source, target, label=f"{label}:{info.filename}",
                                          limit=limits.max_total_bytes - total)
                except zipfile.BadZipFile as err:
                    raise UnsupportedFileError(f"corrupt member {info.filename!r}: {err}", [],
                                               source=label) from err
            extracted.append(relative)
        return extracted
