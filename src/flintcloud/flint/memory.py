"""How the engine's process allocates memory.

A time step of a large batch allocates and frees the same few MB of temporaries (fluxes of
every land unit, (transfers, land units) arrays) thousands of times. glibc's defaults hand
chunks above its mmap threshold back to the OS when freed, and trim the heap top above its
trim threshold, so the next step takes them back at one page fault per 4 KiB page: on the GCBM
demo with distinct pixels, 5.2 million page faults and a run 2.5x slower (docs/benchmarks.md).
Raising both thresholds keeps that memory in the process for reuse.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# Above a step's temporaries (a (transfers, stands) array of a 16,384-stand chunk is 3.4 MB), so
# they come from the heap; below a chunk's trajectories (tens of MB, made once). The heap is
# trimmed only above twice that, as glibc's own dynamic threshold does. Larger values were no
# faster on the distinct demo and kept more memory (peak RSS 571 MB at 32/64 MB, 517 MB here).
MMAP_THRESHOLD = 8 * 1024 * 1024
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD


def reuse_freed_memory() -> bool:
    """Keep freed memory in the process (glibc only; elsewhere nothing changes). True when set."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    mallopt = ctypes.CDLL(name).mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
