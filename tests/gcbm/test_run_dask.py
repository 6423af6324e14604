"""Blocks run as Dask tasks give the same results and files as blocks run here."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from benchmarks.landscapes import replicate_blocks
from flintcloud.gcbm.run import run_gcbm
from tests.gcbm.conftest import demo_zip

distributed = pytest.importorskip("dask.distributed", reason="install flintcloud[dask]")


def _hashes(output_dir: Path) -> dict[str, str]:
    manifest = json.loads((output_dir / "manifest.json").read_text())
    return {entry["path"]: entry["sha256"] for entry in manifest["outputs"]}


def test_dask_workers_give_the_same_bytes_as_running_here(tmp_path):
    project = replicate_blocks(demo_zip(), 3, tmp_path / "project")
    here = run_gcbm(project, tmp_path / "here")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        there = run_gcbm(project, tmp_path / "dask", executor=client.get_executor(pure=False))
    assert there.run.n_blocks_simulated == here.run.n_blocks_simulated == 3
    assert _hashes(tmp_path / "dask") == _hashes(tmp_path / "here")
    pd.testing.assert_frame_equal(there.run.results.pools, here.run.results.pools)
