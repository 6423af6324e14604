"""Pool definitions (flint-core-spec §2.3). Values live in the operation manager's array."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_POOLS = 255


@dataclass(frozen=True, slots=True)
class PoolDef:
    name: str
    index: int
    init_value: float
    description: str = ""
    units: str = ""
    scale: float = 1.0
    order: int = 0
    transform: Any = None  # set for external pools, whose init value comes from a transform


class Pool:
    """A handle on one pool row of the batch: `pool.value` is an (n_land_units,) view."""

    __slots__ = ("definition", "_manager")

    def __init__(self, definition: PoolDef, manager) -> None:
        self.definition = definition
        self._manager = manager

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def index(self) -> int:
        return self.definition.index

    @property
    def value(self):
        return self._manager.values[self.definition.index]
