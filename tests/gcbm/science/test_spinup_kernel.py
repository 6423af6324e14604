"""The compiled spinup (spinup_kernel.py) gives the batched NumPy spinup's bits, on the stands of
every project we have: the demo with no two pixels alike and the six feature projects (several
spatial units and return intervals, mixed stands, hardwood curves, delays)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from flintcloud.gcbm.run import block_results
from flintcloud.gcbm.science import simulation, spinup
from tests.conftest import shared_path
from tests.gcbm.conftest import demo_zip

FEATURES = ("multi_spu", "land_class_change", "transition_rules", "mixed_stands",
            "growth_multipliers", "disturbance_order")


def _spinup_batches(project, monkeypatch) -> list[tuple[spinup.SpinupStands, object]]:
    """Every spinup batch a run of `project` makes: (stands, parameters)."""
    batches = []
    original = simulation.spin_up

    def recording(stands, params):
        batches.append((stands, params))
        return original(stands, params)

    with monkeypatch.context() as patch:
        patch.setattr(simulation, "spin_up", recording)
        for _ in block_results(project):
            pass
    assert batches, "the run spun no stand up"
    return batches


def _both_ways(stands, params, monkeypatch):
    compiled = spinup.spin_up(stands, params)
    with monkeypatch.context() as patch:
        patch.setattr(spinup, "compiled_kernels", lambda: None)
        batched = spinup.spin_up(stands, params)
    return compiled, batched


def _assert_same_bits(compiled, batched) -> None:
    for ours, theirs in zip(compiled, batched, strict=True):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours.view(np.int64), theirs.view(np.int64))


def test_the_kernel_is_compiled_and_its_libm_is_the_c_library():
    assert spinup.compiled_kernels() is not None  # numba is a dependency: no silent fallback


@pytest.mark.parametrize("name", FEATURES)
def test_compiled_spinup_gives_the_batched_bits(name, monkeypatch):
    project = shared_path("data", "gcbm-features", name, "project.zip")
    for stands, params in _spinup_batches(project, monkeypatch):
        _assert_same_bits(*_both_ways(stands, params, monkeypatch))


def test_compiled_spinup_on_stands_no_two_alike(tmp_path, monkeypatch):
    from benchmarks.landscapes import distinct_demo

    project = distinct_demo(demo_zip(), tmp_path / "distinct")
    (stands, params), = _spinup_batches(project, monkeypatch)[:1]
    sample = slice(0, 3000)
    part = spinup.SpinupStands(stands.stand_type[sample], stands.spu[sample],
                               stands.temperature_c[sample], stands.initial_age[sample])
    compiled, batched = _both_ways(part, params, monkeypatch)
    assert np.unique(part.temperature_c).size == part.n and np.unique(part.stand_type).size > 1
    _assert_same_bits(compiled, batched)


def test_a_libm_that_differs_falls_back_to_numpy_with_a_warning(monkeypatch):
    from flintcloud.gcbm.science import spinup_kernel

    spinup.compiled_kernels.cache_clear()
    monkeypatch.setattr(spinup_kernel, "libm_matches", lambda: False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert spinup.compiled_kernels() is None
    spinup.compiled_kernels.cache_clear()
    assert any("C library" in str(warning.message) for warning in caught)


def test_numba_without_a_cache_folder_falls_back_to_numpy(monkeypatch):
    """Numba raises RuntimeError at import when no folder can keep its compiled code."""
    import importlib.abc
    import sys

    class NoCacheFolder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == "flintcloud.gcbm.science.spinup_kernel":
                raise RuntimeError("cannot cache function 'rotate': no locator available")
            return None

    from flintcloud.gcbm import science

    spinup.compiled_kernels.cache_clear()
    monkeypatch.delitem(sys.modules, "flintcloud.gcbm.science.spinup_kernel", raising=False)
    monkeypatch.delattr(science, "spinup_kernel", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoCacheFolder(), *sys.meta_path])
    with pytest.warns(RuntimeWarning, match="no locator"):
        assert spinup.compiled_kernels() is None
    spinup.compiled_kernels.cache_clear()


def test_loading_ahead_leaves_nothing_to_compile_in_a_run(monkeypatch):
    """What a Dask worker's preload (run.dask_setup) does: a later spinup adds no signature."""
    kernels = spinup.compiled_kernels()
    assert spinup.load_compiled()
    compiled = (len(kernels.rotate.signatures), len(kernels.grow_to.signatures))
    project = shared_path("data", "gcbm-features", "multi_spu", "project.zip")
    for stands, params in _spinup_batches(project, monkeypatch):
        spinup.spin_up(stands, params)
    assert (len(kernels.rotate.signatures), len(kernels.grow_to.signatures)) == compiled == (1, 1)
