"""Invariants over random configurations: mass conservation, batch == single land unit."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flintcloud.flint.controller import LocalDomainController
from tests.helpers import quiet_example

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ratios = st.one_of(st.just(0.0), st.floats(0.0, 1.0, allow_nan=False))


@st.composite
def point_configs(draw):
    """The Point example with 3-6 pools, 1-3 test modules on random pools, random ratios and flags."""
    config = quiet_example("point")
    n_pools = draw(st.integers(3, 6))
    names = [f"Pool {i}" for i in range(1, n_pools + 1)]
    init = draw(st.lists(st.one_of(st.just(0.0), st.floats(0.0, 1e3)), min_size=n_pools,
                         max_size=n_pools))
    config.data["Pools"] = [{name: value} for name, value in zip(names, init, strict=True)]
    modules = config.data["Modules"]
    for name in ("TestModule1", "TestModule2", "TestModule3"):
        modules.pop(name)
    for index in range(1, draw(st.integers(1, 3)) + 1):
        chosen = draw(st.permutations(names))[:3]
        settings_ = {f"pool_{i}": pool for i, pool in enumerate(chosen, start=1)}
        settings_ |= {f"ratio_{i}": draw(ratios) for i in (1, 2, 3)}
        modules[f"TestModule{index}"] = {"library": "internal.flint", "order": 2 + index,
                                         "settings": settings_}
    config.data["LocalDomain"]["operationManager"] = {
        "name": "Simple", "use_kahan": draw(st.booleans()),
        "allow_zero_result_transfers": draw(st.booleans())}
    end_year = draw(st.integers(1920, 1922))
    config.data["LocalDomain"]["end_date"] = f"{end_year}/{draw(st.integers(1, 12))}/28"
    return config


@SETTINGS
@given(point_configs())
def test_carbon_is_conserved_at_every_step(config):
    result = LocalDomainController(config, record_outputs=True).run()
    initial = result.stock_rows[0].pools.sum(axis=0)
    for row in result.stock_rows:
        # each applied flux can round the total by half an ulp of the pools it touches
        tolerance = 1e-12 * (np.abs(row.pools).sum(axis=0) + 1.0)
        assert np.all(np.abs(row.pools.sum(axis=0) - initial) <= tolerance), row.step


@st.composite
def rothc_parameters(draw, n):
    floats = lambda lo, hi: st.lists(st.floats(lo, hi), min_size=n, max_size=n).map(np.array)  # noqa: E731
    return {
        "clayFrac": draw(floats(0.05, 0.95)),
        "TSMD": draw(floats(0.0, 50.0)),
        "initSoil.dpmaCMInit": draw(floats(0.0, 5.0)),
        "initSoil.humsCMInit": draw(floats(0.0, 60.0)),
        "initSoil.TSMDInit": draw(floats(0.0, 80.0)),
        "soil.sampleDepth": draw(floats(5.0, 40.0)),
        "soil.sdcmRateMultDpm": draw(floats(0.0, 15.0)),
        "soil.fracPbioToBiof": draw(floats(0.0, 1.0)),
        "soil.evapoOpenRatio": draw(floats(0.5, 3.0)),
        "SoilIOM": draw(floats(0.0, 10.0)),
    }


def _rows(config, n, overrides):
    result = LocalDomainController(config, n_land_units=n, overrides=overrides,
                                   record_outputs=True).run()
    return np.stack([row.pools for row in result.stock_rows])  # (rows, pools, n)


def _assert_bit_identical(batch, single):
    assert batch.shape == single.shape
    assert np.array_equal(batch.view(np.int64), single.view(np.int64))


@SETTINGS
@given(st.data())
def test_rothc_batch_equals_single_runs_bit_for_bit(data):
    n = data.draw(st.integers(2, 5))
    parameters = data.draw(rothc_parameters(n))
    config = quiet_example("rothc")
    batch = _rows(config, n, parameters)
    for unit in range(n):
        single = _rows(config, 1, {k: v[unit:unit + 1] for k, v in parameters.items()})
        _assert_bit_identical(batch[:, :, unit:unit + 1], single)


@SETTINGS
@given(st.data())
def test_point_batch_equals_single_runs_bit_for_bit(data):
    n = data.draw(st.integers(2, 6))
    config = data.draw(point_configs())
    names = [next(iter(pool)) for pool in config.data["Pools"]]
    pools = {name: np.array(data.draw(st.lists(st.one_of(st.just(0.0), st.floats(0, 1e3)),
                                               min_size=n, max_size=n))) for name in names}
    batch = _rows(config, n, pools)
    for unit in range(n):
        single = _rows(config, 1, {k: v[unit:unit + 1] for k, v in pools.items()})
        _assert_bit_identical(batch[:, :, unit:unit + 1], single)
