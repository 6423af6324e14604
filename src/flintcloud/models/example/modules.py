"""TestModule, ErrorScreenWriter and TimeSeriesTransform (flint-core-spec §7, §8.1-8.2)."""

from __future__ import annotations

import logging

import numpy as np

from flintcloud.flint.module import Module
from flintcloud.flint.signals import Signal

log = logging.getLogger("flintcloud.models.example")


class TestModule(Module):
    """Moves carbon round three pools in one proportional operation per step.

    Upstream reads `ratio_2` into ratio_3 (then `ratio_3` overwrites it), so ratio_2 is always
    0.5; we keep that, because the reference outputs depend on it.
    """

    description = "Three-pool cycle test module (TestModule1/2/3 of internal.flint)."

    def configure(self) -> None:
        settings = self.settings
        self.ratio_1 = self.ratio_2 = self.ratio_3 = 0.5
        if "ratio_1" in settings:
            self.ratio_1 = settings.number("ratio_1")
        if "ratio_2" in settings:
            self.ratio_3 = settings.number("ratio_2")  # sic: upstream quirk
        if "ratio_3" in settings:
            self.ratio_3 = settings.number("ratio_3")
        self.pool_names = [(f"pool_{i}", settings.string(f"pool_{i}", f"Pool {i}")) for i in (1, 2, 3)]
        self.variable_names = [(f"variable_{i}", settings.string(f"variable_{i}", f"variable {i}"))
                               for i in (1, 2, 3)]

    def subscribe(self, bus) -> None:
        bus.subscribe(Signal.LocalDomainInit, self.on_local_domain_init)
        bus.subscribe(Signal.TimingStep, self.on_timing_step)

    def on_local_domain_init(self) -> None:
        self.pools = [self.pool(name, key) for key, name in self.pool_names]
        for key, name in self.variable_names:
            self.variable(name, key)

    def on_timing_step(self) -> None:
        pool_1, pool_2, pool_3 = self.pools
        operation = self.land_unit.create_proportional_operation(self)
        operation.add_transfer(pool_1, pool_2, self.ratio_1) \
                 .add_transfer(pool_2, pool_3, self.ratio_2) \
                 .add_transfer(pool_3, pool_1, self.ratio_3)
        self.land_unit.submit_operation(operation)


class ErrorScreenWriter(Module):
    """Logs simulation errors, at most `log_errors_max_number` per processing unit (0 = no limit)."""

    description = "Logs simulation errors to the console."

    def configure(self) -> None:
        self.max_errors = max(0, self.settings.integer("log_errors_max_number", 100))
        self.count = 0

    def subscribe(self, bus) -> None:
        bus.subscribe(Signal.LocalDomainProcessingUnitInit, self.on_processing_unit_init)
        bus.subscribe(Signal.Error, self.on_error)

    def on_processing_unit_init(self) -> None:
        self.count = 0

    def on_error(self, message: str) -> None:
        self.count += 1
        if self.max_errors == 0 or self.count <= self.max_errors:
            log.error("%s: %s", self.name, message)
        elif self.count == self.max_errors + 1 or self.count % 10000 == 0:
            log.error("Max Screen error messages exceeded")


class TimeSeriesTransform:
    """`data[min(step, len - 1)]`: step 0 (the init step) reads data[0]; past the end, the last value."""

    def configure(self, settings, land_unit) -> None:
        self.timing = land_unit.timing
        series = settings.child(settings.string("data_property", "data"))
        if not series.expect_array():
            raise series.error("a time series needs at least one value")
        for element in series.elements():
            if isinstance(element.value, bool) or not isinstance(element.value, int | float):
                raise element.error(f"expected a number, got {element.value!r}")
        self.values = np.asarray(series.value, dtype=np.float64)
        self.last = len(series.value) - 1

    def value(self) -> float:
        return float(self.values[min(self.timing.step, self.last)])

