"""Writing files so that a file that exists is whole: write beside it, rename when complete."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A hidden temporary path beside `path`, renamed onto it when the block completes and
    removed if it raises: readers never see a half-written file, even after a crash."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.unlink(missing_ok=True)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


# FS_IOC_GETFLAGS / FS_IOC_SETFLAGS and the "top of a directory hierarchy" flag (chattr +T)
_GET_FLAGS, _SET_FLAGS, _TOP_DIRECTORY = 0x80086601, 0x40086602, 0x00020000


def make_spread_folder(folder: Path, subfolders: Iterable[str] = ()) -> None:
    """Make `folder` and its `subfolders` (names) so that, where the file system takes the hint
    (ext2/3/4's `chattr +T`), each subfolder is placed apart from the others on the disk, and
    elsewhere on each run. Why: without a journal, ext4 scans past every inode deleted in the
    last minutes before it reuses a group's inodes; in a folder of a busy temporary folder (or
    where the last run's outputs were just deleted), creating a file then costs up to 0.7 ms
    instead of 0.02 ms."""
    folder.mkdir(parents=True, exist_ok=True)
    _mark_top_directory(folder)
    for name in subfolders:
        # ext4 starts looking for a subfolder's place from the hash of its name: a new name
        # each run, then the real one
        temporary = folder / f".{name}.{uuid.uuid4().hex}"
        temporary.mkdir()
        try:
            os.rename(temporary, folder / name)
        except OSError:  # made meanwhile, and in use
            temporary.rmdir()
            if not (folder / name).is_dir():
                raise


def _mark_top_directory(folder: Path) -> None:
    try:
        import fcntl
        import struct

        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except (ImportError, OSError):
        return  # not POSIX
    try:
        flags = struct.unpack("l", fcntl.ioctl(descriptor, _GET_FLAGS, struct.pack("l", 0)))[0]
        fcntl.ioctl(descriptor, _SET_FLAGS, struct.pack("l", flags | _TOP_DIRECTORY))
    except OSError:
        pass  # a file system without the flag: nothing to gain
    finally:
        os.close(descriptor)
