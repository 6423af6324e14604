"""Receiving files safely: sanitised names, size-capped streaming copies, zip limits (zips are
extracted by `flintcloud.io.archive.extract_zip`, as the CLI does).

Nothing here decides where an accepted file ends up; callers write into a staging directory and
move the whole upload into place only once every file passed validation.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flintcloud.errors import InputError
from flintcloud.service.errors import PayloadTooLargeError

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
    """What an uploaded zip may hold (the `max_zip_*` settings)."""

    max_members: int
    max_total_bytes: int
    max_ratio: float
