"""Small blocks run in groups: consecutive blocks share one task and one spinup batch, with the
same outputs as one block per task."""

from __future__ import annotations

import json

import pytest

from benchmarks.landscapes import small_blocks
from flintcloud.gcbm import run
from flintcloud.gcbm.science import simulation
from tests.gcbm.conftest import demo_zip


@pytest.fixture(scope="module")
def small_project(tmp_path_factory):
    """6 blocks of 4 distinct pixels each."""
    return small_blocks(demo_zip(), 6, tmp_path_factory.mktemp("small") / "project")


def _run(project, output, monkeypatch, group_pixels: int) -> tuple[dict[str, str], int]:
    """(sha256 of every output, number of spinup batches) of a run with GROUP_PIXELS set."""
    batches = []
    spin_up = simulation.spin_up

    def counted(stands, params):  # type: ignore[no-untyped-def]
        batches.append(stands.n)
        return spin_up(stands, params)

    monkeypatch.setattr(run, "GROUP_PIXELS", group_pixels)
    monkeypatch.setattr(simulation, "spin_up", counted)
    run.run_gcbm(project, output)
    manifest = json.loads((output / "manifest.json").read_text())
    return {entry["path"]: entry["sha256"] for entry in manifest["outputs"]}, len(batches)


def test_small_blocks_share_one_spinup_and_write_the_same_outputs(small_project, tmp_path,
                                                                  monkeypatch):
    alone, alone_batches = _run(small_project, tmp_path / "alone", monkeypatch, 0)
    grouped, grouped_batches = _run(small_project, tmp_path / "grouped", monkeypatch, 4096)
    assert alone_batches == 6  # one spinup per block
    assert grouped_batches == 1  # the 24 stands of the 6 blocks at once
    assert any(path.endswith(".tif") for path in grouped)
    assert grouped == alone  # results db, GeoTIFFs, summaries, maps: the same bytes


def test_blocks_are_grouped_in_order_until_they_hold_enough_pixels(monkeypatch):
    monkeypatch.setattr(run, "GROUP_PIXELS", 10)
    pixels = [4, 4, 0, 4, 20, 3, 3]
    numbers = [number for number, count in enumerate(pixels) if count]
    assert run._groups(numbers, pixels) == [[0, 1, 3], [4], [5, 6]]
