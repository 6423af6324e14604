"""Pool definitions (flint-core-spec §2.3). Values live in the operation manager's array."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from flintcloud.flint.operations import OperationManager

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
    transform: Any = None  # a Transform, set for external pools, whose init value comes from a transform


class Pool:
    """A handle on one pool row of the batch: `pool.value` is an (n_land_units,) view."""

    __slots__ = ("definition", "_manager")

    def __init__(self, definition: PoolDef, manager: OperationManager) -> None:
        self.definition = definition
        self._manager = manager

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def index(self) -> int:
        return self.definition.index

    @property
    def value(self) -> NDArray[np.float64]:
        row: NDArray[np.float64] = self._manager.values[self.definition.index]
        return row
