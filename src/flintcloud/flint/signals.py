"""FLINT's notifications and a synchronous dispatcher (flint-core-spec §4)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from enum import IntEnum
from typing import Any


class Signal(IntEnum):
    SystemInit = 0
    SystemShutdown = 1
    LocalDomainInit = 2
    LocalDomainShutdown = 3
    LocalDomainProcessingUnitInit = 4
    LocalDomainProcessingUnitShutdown = 5
    PreTimingSequence = 6
    TimingInit = 7
    TimingPrePostInit = 8
    TimingPostInit = 9
    TimingPostInit2 = 10
    TimingShutdown = 11
    TimingStep = 12
    TimingPreEndStep = 13
    TimingEndStep = 14
    TimingPostStep = 15
    OutputStep = 16
    Error = 17
    DisturbanceEvent = 18
    PrePostDisturbanceEvent = 19
    PostDisturbanceEvent = 20
    PostDisturbanceEvent2 = 21
    PostNotification = 22


Handler = Callable[..., None]


class NotificationCenter:
    """Calls every listener of a signal synchronously, in subscription (= module order) order."""

    def __init__(self) -> None:
        self._listeners: dict[Signal, list[Handler]] = defaultdict(list)

    def subscribe(self, signal: Signal, handler: Handler) -> None:
        self._listeners[signal].append(handler)

    def post(self, signal: Signal, *args: Any) -> None:
        for handler in self._listeners.get(signal, ()):
            handler(*args)

    def post_with_post_notification(self, signal: Signal, *args: Any) -> None:
        """Post `signal`, and PostNotification(signal) after each of its listeners."""
        for handler in self._listeners.get(signal, ()):
            handler(*args)
            self.post(Signal.PostNotification, signal)
