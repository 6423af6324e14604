"""Spinup runs its distinct stands in bounded chunks: the chunk size changes no bit."""

from __future__ import annotations

import numpy as np

from flintcloud.gcbm.run import block_results
from flintcloud.gcbm.science import spinup
from tests.gcbm.conftest import demo_zip


def _post_spinup_pools() -> np.ndarray:
    (result,) = list(block_results(demo_zip()))
    return result.pixel_values(result.trajectory.pools[0])


def test_spinup_in_small_chunks_gives_the_same_bits(monkeypatch):
    whole = _post_spinup_pools()
    monkeypatch.setattr(spinup, "CHUNK", 3)  # the demo's 10 spinup keys in 4 chunks
    chunked = _post_spinup_pools()
    assert whole.shape == chunked.shape and whole.shape[1] == 11347
    np.testing.assert_array_equal(whole.view(np.int64), chunked.view(np.int64))
