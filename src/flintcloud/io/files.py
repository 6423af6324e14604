"""Writing files so that a file that exists is whole: write beside it, rename when complete."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


def make_spread_folder(folder: Path) -> None:
    """Make `folder` and, where the file system takes the hint (ext2/3/4's `chattr +T`), have
    its subfolders placed apart from it on the disk. Without journal, ext4 scans past every
    inode deleted in the last minutes before it reuses a group's inodes: in a busy temporary
    folder, creating a file then costs up to 0.7 ms instead of 0.02 ms."""
    folder.mkdir(parents=True, exist_ok=True)
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
