"""A run's progress counts the blocks that have a simulated cell, not the tiles' empty blocks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from benchmarks.landscapes import replicate_blocks
from flintcloud.gcbm.run import ProgressKind, run_project
from tests.gcbm.conftest import demo_zip


def test_progress_counts_simulated_blocks_only(tmp_path):
    """The demo's tile has 100 blocks of which 1 has data (3 once replicated): the events say
    1/1 (3/3), here and on an executor, and the results are those of every block."""
    project = replicate_blocks(demo_zip(), 3, tmp_path / "project")
    for executor in (None, ThreadPoolExecutor(2)):
        events = []
        run = run_project(project, on_progress=events.append, executor=executor)
        assert run.n_blocks == 100 and run.n_blocks_simulated == 3
        assert events[0].kind is ProgressKind.START and events[0].blocks_total == 3
        blocks = [(e.blocks_done, e.blocks_total) for e in events if e.kind is ProgressKind.BLOCK]
        assert blocks == [(1, 3), (2, 3), (3, 3)]
        assert all(e.blocks_total == 3 and e.blocks_done < 3 for e in events
                   if e.kind is ProgressKind.YEAR)
