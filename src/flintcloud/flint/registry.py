"""Libraries of modules, transforms and FlintData, keyed as FLINT keys them: (library, name).

`internal.flint` is built in. Other libraries come from the entry-point group
``flintcloud.libraries``: each entry point names a ``register(registry)`` function, so a third
party adds modules by installing a package, without touching the engine.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points

from flintcloud.flint.module import Module
from flintcloud.flint.variables import FlintData, Transform

INTERNAL_LIBRARY = "internal.flint"
ENTRY_POINT_GROUP = "flintcloud.libraries"


@dataclass
class Library:
    name: str
    modules: dict[str, type[Module]] = field(default_factory=dict)
    transforms: dict[str, type[Transform]] = field(default_factory=dict)
    flintdata: dict[str, type[FlintData]] = field(default_factory=dict)


class Registry:
    def __init__(self) -> None:
        self.libraries: dict[str, Library] = {}

    def library(self, name: str) -> Library:
        return self.libraries.setdefault(name, Library(name))

    def add_module(self, library: str, name: str, cls: type[Module]) -> None:
        self.library(library).modules[name] = cls

    def add_transform(self, library: str, name: str, cls: type[Transform]) -> None:
        self.library(library).transforms[name] = cls

    def add_flintdata(self, library: str, name: str, cls: type[FlintData]) -> None:
        self.library(library).flintdata[name] = cls

    def module_names(self) -> list[tuple[str, str, type[Module]]]:
        return sorted((lib.name, name, cls) for lib in self.libraries.values()
                      for name, cls in lib.modules.items())


def _register_internal(registry: Registry) -> None:
    from flintcloud.flint.modules.outputs import OutputerStream, OutputerStreamFlux
    from flintcloud.flint.modules.sequencers import CalendarSequencer
    from flintcloud.flint.modules.transaction import (
        TransactionManagerAfterSubmitModule,
        TransactionManagerEndOfStepModule,
    )
    from flintcloud.flint.transforms import CompositeTransform, SumPoolsTransform
    from flintcloud.flint.variables import SpatialLocationInfo

    for cls in (TransactionManagerEndOfStepModule, TransactionManagerAfterSubmitModule,
                CalendarSequencer, OutputerStream, OutputerStreamFlux):
        registry.add_module(INTERNAL_LIBRARY, cls.__name__, cls)
    registry.add_transform(INTERNAL_LIBRARY, "SumPoolsTransform", SumPoolsTransform)
    registry.add_transform(INTERNAL_LIBRARY, "CompositeTransform", CompositeTransform)
    registry.add_flintdata(INTERNAL_LIBRARY, "SpatialLocationInfo", SpatialLocationInfo)


@cache
def default_registry() -> Registry:
    """internal.flint plus every installed library plugin."""
    registry = Registry()
    _register_internal(registry)
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry_point.load()(registry)
        except Exception as err:  # a broken plugin must not take the engine down with it
            warnings.warn(f"module library plugin {entry_point.name!r} ({entry_point.value}) "
                          f"failed to load: {err}", RuntimeWarning, stacklevel=2)
    return registry
