"""Variables: internal values, transform-backed (external) values and FlintData objects.

In a batch, a value may be a scalar shared by all land units or an ``(n_land_units,)`` array;
a struct is a dict whose fields may likewise be scalars or arrays.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from flintcloud.flint.config import ConfigView
    from flintcloud.flint.land_unit import LandUnitController


class Transform(Protocol):
    """A FLINT transform: configured once, asked for its value on every access."""

    def configure(self, settings: ConfigView, land_unit: LandUnitController) -> None: ...

    def value(self) -> Any: ...


class FlintData(Protocol):
    """A FlintData object (e.g. SpatialLocationInfo): configured once, then held by a variable."""

    def configure(self, settings: ConfigView, land_unit: LandUnitController) -> None: ...


class Variable:
    """An internal variable: a stored value that modules may set and `reset_value` restores."""

    kind = "internal"

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self._initial = value
        self._value = copy.deepcopy(value)

    @property
    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any) -> None:
        self._value = value

    def reset_value(self) -> None:
        self._value = copy.deepcopy(self._initial)

    def override(self, value: Any) -> None:
        """Replace the configured value itself (a batch parameter), so resets keep it."""
        self._initial = value
        self._value = copy.deepcopy(value)


class ExternalVariable:
    """A variable whose value is its transform's value, recomputed on every access (no cache)."""

    kind = "external"

    def __init__(self, name: str, transform: Transform) -> None:
        self.name = name
        self.transform = transform

    @property
    def value(self) -> Any:
        return self.transform.value()

    def set_value(self, value: Any) -> None:
        raise TypeError(f"variable {self.name!r} is computed by a transform and cannot be set")

    def reset_value(self) -> None:
        pass


class FlintDataVariable:
    """A variable holding a FlintData object (e.g. SpatialLocationInfo)."""

    kind = "flintdata"

    def __init__(self, name: str, data: Any) -> None:
        self.name = name
        self.data = data

    @property
    def value(self) -> Any:
        return self.data

    def set_value(self, value: Any) -> None:
        self.data = value

    def reset_value(self) -> None:
        pass


class SpatialLocationInfo:
    """FlintData with the land unit's tile/block/cell indices and location (point runs: unset)."""

    def __init__(self) -> None:
        self.tile_idx = self.block_idx = self.cell_idx = 0
        self.lat = self.lon = 0.0
        self.land_unit_area = 1.0

    def configure(self, settings: ConfigView, land_unit: LandUnitController) -> None:
        pass


AnyVariable = Variable | ExternalVariable | FlintDataVariable
