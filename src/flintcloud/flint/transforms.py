"""Transforms of `internal.flint` that work on any land-unit batch (flint-core-spec §13.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from flintcloud.flint.config import ConfigView
    from flintcloud.flint.land_unit import LandUnitController


class SumPoolsTransform:
    """The sum of the named pools' current values (summed in the listed order)."""

    def configure(self, settings: ConfigView, land_unit: LandUnitController) -> None:
        self.land_unit = land_unit
        self.names = [item.value for item in settings.child("pools").elements()]
        self.settings = settings

    def value(self) -> Any:
        total: float | NDArray[np.float64] = 0.0
        for name in self.names:
            try:
                total = total + self.land_unit.pool(name).value
            except KeyError:
                raise self.settings.error(f"no pool named {name!r}", "pools") from None
        return total


class CompositeTransform:
    """Several variables merged into one struct; null if any is null unless allow_nulls."""

    def configure(self, settings: ConfigView, land_unit: LandUnitController) -> None:
        self.land_unit = land_unit
        self.allow_nulls = settings.boolean("allow_nulls", False)
        self.names = [item.value for item in settings.child("vars").elements()]

    def value(self) -> Any:
        merged: dict[str, Any] = {}
        for name in self.names:
            value = self.land_unit.variable(name).value
            if value is None and not self.allow_nulls:
                return None
            if isinstance(value, dict):
                merged.update(value)
            else:
                merged[name] = value
        return merged
