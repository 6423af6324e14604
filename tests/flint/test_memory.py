"""The engine keeps freed memory for reuse: a time step's temporaries, freed and allocated
again every step, cost no page faults after the first step."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

_FAULTS = """
import resource, sys
import numpy as np
from flintcloud.flint.memory import reuse_freed_memory
if sys.argv[1] == "reuse":
    assert reuse_freed_memory()
values = np.ones((26, 16384))
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(100):  # a step: operations' (transfers, land units) fluxes made, applied, freed
    operations = [values * 0.01 for _ in range(4)]
    for fluxes in operations:
        values -= fluxes
    del operations, fluxes
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True,
                          check=True)
    return int(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc setting")
def test_reuse_freed_memory_stops_page_faults_on_every_step():
    pages_per_step = 26 * 16384 * 8 // 4096  # 832 pages of 4 KiB
    # glibc trims the 4 freed 3.4 MB arrays off the heap, and faults them back in next step
    assert _page_faults("default") > 100 * pages_per_step
    assert _page_faults("reuse") < 5 * pages_per_step  # the first step's only
