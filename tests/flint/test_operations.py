"""OperationManagerSimple semantics: fluxes fixed at submission, drop rules, Kahan, negatives."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from flintcloud.errors import SimulationError
from flintcloud.flint.operations import OperationManager
from flintcloud.flint.pools import PoolDef
from flintcloud.flint.timing import Timing


def _manager(values, **flags) -> OperationManager:
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    timing = Timing(datetime(2000, 1, 1), datetime(2001, 1, 1))
    manager = OperationManager(values.shape[1], timing, **flags)
    for index, row in enumerate(values):
        manager.add_pool(PoolDef(f"P{index}", index, 0.0))
        manager.set_pool_values(index, row)
    return manager


def test_proportional_fluxes_use_pool_values_at_submission():
    manager = _manager([[100.0], [100.0], [100.0]])
    operation = manager.create_proportional("M")
    operation.add_transfer(0, 1, 0.4).add_transfer(1, 2, 0.5).add_transfer(2, 0, 0.4)
    operation.submit()
    second = manager.create_proportional("N")
    second.add_transfer(0, 1, 0.3).submit()  # still computed from 100: nothing applied yet
    manager.apply()
    np.testing.assert_array_equal(manager.values[:, 0], [100 - 40 + 40 - 30, 100 + 40 - 50 + 30, 110])


def test_apply_order_is_source_first_then_sink_flux_by_flux():
    manager = _manager([[0.1], [0.2]])
    operation = manager.create_stock("M")
    operation.add_transfer(0, 1, 0.3).add_transfer(1, 0, 0.7)
    operation.submit()
    manager.apply()
    p0, p1 = 0.1, 0.2
    p0 -= 0.3
    p1 += 0.3
    p1 -= 0.7
    p0 += 0.7
    assert manager.values[:, 0].tolist() == [p0, p1]


def test_zero_transfers_are_dropped_per_land_unit():
    manager = _manager([[0.0, 5.0, 5.0], [1.0, 1.0, 1.0]])
    operation = manager.create_proportional("M")
    operation.add_transfer(0, 1, np.array([0.5, 0.5, 0.0]))
    operation.submit()
    manager.apply()
    flux = manager.last_applied[0].fluxes[0]
    assert flux.applied.tolist() == [False, True, False]
    np.testing.assert_array_equal(manager.values, [[0.0, 2.5, 5.0], [1.0, 3.5, 1.0]])


def test_all_zero_transfer_is_not_recorded():
    manager = _manager([[0.0], [1.0]])
    manager.create_proportional("M").add_transfer(0, 1, 0.5).submit()
    manager.create_stock("M").add_transfer(1, 0, 0.0).submit()
    manager.apply()
    assert [result.fluxes for result in manager.last_applied] == [[], []]


def test_allow_zero_result_transfers_keeps_zero_stock_transfers():
    manager = _manager([[1.0], [1.0]], allow_zero_result_transfers=True)
    manager.create_stock("M").add_transfer(0, 1, 0.0).submit()
    manager.apply()
    assert len(manager.last_applied[0].fluxes) == 1


def test_dropped_transfer_leaves_negative_zero_alone():
    manager = _manager([[-0.0, 1.0], [-0.0, 1.0]])
    manager.create_proportional("M").add_transfer(1, 0, 0.5).submit()
    manager.apply()
    assert np.signbit(manager.values[0, 0]) and np.signbit(manager.values[1, 0])
    np.testing.assert_array_equal(manager.values[:, 1], [1.5, 0.5])


def test_self_transfers_are_recorded_but_not_applied():
    manager = _manager([[2.0]])
    manager.create_proportional("M").add_transfer(0, 0, 0.5).submit()
    manager.apply()
    assert manager.values[0, 0] == 2.0
    assert len(manager.last_applied[0].fluxes) == 1


def test_negative_transfers_are_allowed_by_default_and_refused_when_asked():
    allowed = _manager([[1.0], [1.0]])
    allowed.create_stock("M").add_transfer(0, 1, -2.0).submit()
    allowed.apply()
    assert allowed.values[:, 0].tolist() == [3.0, -1.0]

    refused = _manager([[1.0, 1.0], [1.0, 1.0]], allow_negative_transfers=False)
    refused.create_stock("Grow").add_transfer(0, 1, np.array([1.0, -2.0])).submit()
    with pytest.raises(SimulationError, match=r"land unit 1: Negative transfer by Grow: -2 from P0 to P1"):
        refused.apply()


def test_kahan_summation_compensates_rounding():
    n_steps = 1000
    naive, kahan = _manager([[1.0], [0.0]]), _manager([[1.0], [0.0]], use_kahan=True)
    for manager in (naive, kahan):
        for _ in range(n_steps):
            manager.create_stock("M").add_transfer(0, 1, 0.1).submit()
            manager.apply()
    exact = 1.0 - n_steps * 0.1
    assert abs(kahan.values[0, 0] - exact) < abs(naive.values[0, 0] - exact)
    assert kahan.values[0, 0] == pytest.approx(exact, abs=1e-13)


def test_partial_steps_scale_fluxes_without_the_zero_check():
    manager = _manager([[10.0], [0.0]])
    manager.timing.fraction_of_step = 0.5
    operation = manager.create_proportional("M")
    operation.add_transfer(0, 1, 0.2)
    manager.timing.fraction_of_step = 1.0  # the scale captured at creation is what counts
    manager.timing.is_full_step = False
    operation.submit()
    assert manager.pending[0].fluxes[0].values[0] == 10.0 * 0.2 * 0.5


def test_clear_all_drops_pending_and_last_applied():
    manager = _manager([[1.0], [0.0]])
    manager.create_stock("M").add_transfer(0, 1, 0.5).submit()
    manager.apply()
    manager.create_stock("M").add_transfer(0, 1, 0.5).submit()
    manager.clear_all()
    assert manager.pending == [] and manager.last_applied == []
