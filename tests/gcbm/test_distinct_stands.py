"""Simulating each distinct stand once gives every pixel exactly what simulating it would."""

from __future__ import annotations

import numpy as np
import pandas as pd

from flintcloud.gcbm.run import block_results, run_project
from flintcloud.gcbm.science.simulation import EventLayer, PixelInputs, distinct_stands
from tests.gcbm.conftest import demo_zip


def _pixel_arrays(deduplicate: bool) -> tuple[dict, object]:
    captured = {}
    for result in block_results(demo_zip(), deduplicate=deduplicate):
        trajectory = result.trajectory
        captured["cells"] = result.data.cell_index
        captured["pools"] = result.pixel_values(trajectory.pools)
        captured["age"] = result.pixel_values(trajectory.age)
        captured["fluxes"] = [result.pixel_values(f) for f in trajectory.fluxes]
        captured["keys"] = list(trajectory.flux_keys)

    run = run_project(demo_zip(), deduplicate=deduplicate)
    return captured, run


def test_distinct_stands_reproduce_every_pixel_bit_for_bit():
    stands, stand_run = _pixel_arrays(True)
    pixels, pixel_run = _pixel_arrays(False)
    np.testing.assert_array_equal(stands["cells"], pixels["cells"])
    assert np.array_equal(stands["pools"].view(np.int64), pixels["pools"].view(np.int64))
    np.testing.assert_array_equal(stands["age"], pixels["age"])
    key_order = [pixels["keys"].index(key) for key in stands["keys"]]
    for ours, theirs in zip(stands["fluxes"], pixels["fluxes"], strict=True):
        np.testing.assert_array_equal(ours, theirs[key_order])
    # landscape sums differ only by the order in which pixel areas are added
    ours = stand_run.results.pool_totals_by_year()
    theirs = pixel_run.results.pool_totals_by_year()
    pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-12)


def test_distinct_stands_group_pixels_with_equal_inputs():
    def inputs(temperature):
        n = len(temperature)
        event = EventLayer("fire", np.array([2011, -1, 2011, 2011]), np.zeros(n, dtype=np.intp),
                           np.full(n, -1, dtype=np.intp))
        return PixelInputs(classifier_set=np.array([0, 0, 0, 1]), spu=np.zeros(n, dtype=np.intp),
                           temperature_c=np.asarray(temperature, dtype=np.float64),
                           initial_age=np.array([30, 30, 30, 30]),
                           has_initial_age=np.ones(n, dtype=bool), events=(event,))

    stands, stand_of_pixel = distinct_stands(inputs([1.5, 1.5, 1.5, 1.5]))
    # pixel 1 has no fire, pixel 3 another classifier set: 3 stands, in order of first pixel
    np.testing.assert_array_equal(stand_of_pixel, [0, 1, 0, 2])
    np.testing.assert_array_equal(stands.classifier_set, [0, 0, 1])
    # a temperature differing in its last bits is another input: never merged by rounding
    _, stand_of_pixel = distinct_stands(inputs([1.5, 1.5, 1.5 + 1e-15, 1.5]))
    np.testing.assert_array_equal(stand_of_pixel, [0, 1, 2, 3])
