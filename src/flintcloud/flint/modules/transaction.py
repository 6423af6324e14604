"""Transaction managers: when pending operations are applied (flint-core-spec §6.5)."""

from __future__ import annotations

from flintcloud.flint.module import Module
from flintcloud.flint.signals import NotificationCenter, Signal


class TransactionManagerEndOfStepModule(Module):
    """Applies at the end of each step, so all of a step's fluxes come from start-of-step pools."""

    description = "Applies all pending operations at the end of each step."

    def subscribe(self, bus: NotificationCenter) -> None:
        ops = self.land_unit.operations
        for signal in (Signal.TimingPrePostInit, Signal.TimingPreEndStep, Signal.PrePostDisturbanceEvent):
            bus.subscribe(signal, lambda *_: ops.apply())
        for signal in (Signal.TimingPostInit2, Signal.TimingPostStep, Signal.PostDisturbanceEvent2):
            bus.subscribe(signal, lambda *_: ops.clear_last_applied())
        bus.subscribe(Signal.Error, lambda *_: ops.clear_all())


class TransactionManagerAfterSubmitModule(Module):
    """Applies after every notification, so later modules see earlier modules' fluxes."""

    description = "Applies pending operations after each notification."

    def subscribe(self, bus: NotificationCenter) -> None:
        ops = self.land_unit.operations
        bus.subscribe(Signal.PostNotification, lambda *_: ops.apply())
        for signal in (Signal.TimingPostInit2, Signal.TimingPostStep, Signal.PostDisturbanceEvent2):
            bus.subscribe(signal, lambda *_: ops.clear_last_applied())
        bus.subscribe(Signal.Error, lambda *_: ops.clear_all())
