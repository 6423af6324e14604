"""Flux outputs account for every change of the stocks."""

from __future__ import annotations

import numpy as np
import pytest

from flintcloud.flint.controller import LocalDomainController
from tests.helpers import quiet_example


def _flux_sums_by_step(result) -> dict[int, np.ndarray]:
    n_pools = len(result.pool_names)
    sums: dict[int, np.ndarray] = {}
    for row in result.flux_rows:
        change = sums.setdefault(row.step, np.zeros((n_pools, result.n_land_units)))
        change[row.source] -= row.values
        change[row.sink] += row.values
    return sums


@pytest.mark.parametrize("name", ["point", "rothc"])
def test_flux_rows_sum_to_stock_changes(name):
    result = LocalDomainController(quiet_example(name), n_land_units=3, record_outputs=True).run()
    rows = result.stock_rows
    sums = _flux_sums_by_step(result)
    assert len(rows) == 61 and set(sums) <= set(range(61))
    initial = LocalDomainController(quiet_example(name), n_land_units=3).land_unit.operations.values
    previous = initial
    for row in rows:
        expected = row.pools - previous
        flux_change = sums.get(row.step, np.zeros_like(expected))
        scale = np.abs(row.pools).max() + np.abs(previous).max() + 1.0
        np.testing.assert_allclose(flux_change, expected, rtol=0, atol=1e-12 * scale)
        previous = row.pools


def test_flux_file_rows_match_upstream_format(tmp_path):
    from tests.helpers import run_to_text

    _, result = run_to_text(quiet_example("rothc"), tmp_path)
    flux_file = next(path for path in result.files if "Flux" in path.name)
    lines = flux_file.read_text().split("\n")
    assert lines[0] == "OutputerStreamFlux"
    header = lines.index("step,step date,module name,disturbance_type,source pool,sink pool,value")
    first = lines[header + 1]
    assert first == "0,1919-12-01:00:00:00.000000,RothCModule,initialValues,SoilDPM,0.02"
    assert "1,1920-01-01:00:00:00.000000,PlantResidueModule,plantCM,SoilDPM,7.455" in lines
    # the HUM -> HUM self transfer is never written, nor any transfer dropped for zero values
    assert not any(",SoilHUM,SoilHUM," in line for line in lines)
    assert not any(line.startswith("1,") and ",SoilBioF,atmosphere," in line for line in lines)
