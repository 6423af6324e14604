"""The module contract: configure from settings, subscribe handlers, act on the land-unit batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from flintcloud.flint.signals import NotificationCenter

if TYPE_CHECKING:
    from flintcloud.flint.config import ConfigView
    from flintcloud.flint.land_unit import LandUnitController
    from flintcloud.flint.pools import Pool
    from flintcloud.flint.timing import Timing
    from flintcloud.flint.variables import AnyVariable


class Module:
    """Base of every module. `name` is the module's key in the config's `Modules` object."""

    description: ClassVar[str] = ""

    def __init__(self, name: str, library: str, land_unit: LandUnitController,
                 settings: ConfigView) -> None:
        self.name = name
        self.library = library
        self.land_unit = land_unit
        self.settings = settings

    def configure(self) -> None:
        """Read `self.settings`. Pools and variables do not exist yet (they come later)."""

    def subscribe(self, bus: NotificationCenter) -> None:
        """Register handlers with `bus.subscribe(Signal.X, self.on_x)`."""

    # lookups whose errors point at this module's settings
    def pool(self, name: str, setting: str | None = None) -> Pool:
        """The pool `name`; `setting` is the settings key that named it, if any."""
        try:
            return self.land_unit.pool(name)
        except KeyError:
            key = setting if setting and setting in self.settings else None
            raise self.settings.error(f"no pool named {name!r}", key,
                                      hint=f"module {self.name} needs pool {name!r}") from None

    def variable(self, name: str, setting: str | None = None) -> AnyVariable:
        """The variable `name`; `setting` is the settings key that named it, if any."""
        try:
            return self.land_unit.variable(name)
        except KeyError:
            key = setting if setting and setting in self.settings else None
            raise self.settings.error(f"no variable named {name!r}", key,
                                      hint=f"module {self.name} needs variable {name!r}") from None


class Sequencer(Module):
    """A module that drives time: `run()` posts the timing notifications."""

    def configure_timing(self, timing: Timing) -> None:
        """SequencerModuleBase::configure(timing)."""

    def run(self, bus: NotificationCenter) -> None:
        raise NotImplementedError
