"""The land-unit controller: timing, pools/operations and variables shared by all modules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flintcloud.flint.operations import Operation, OperationManager
from flintcloud.flint.outputs import OutputFiles
from flintcloud.flint.pools import Pool
from flintcloud.flint.timing import Timing
from flintcloud.flint.variables import AnyVariable

if TYPE_CHECKING:
    from flintcloud.flint.module import Module


class LandUnitController:
    """What modules see of the simulation: `n` land units simulated in lock step."""

    def __init__(self, n_land_units: int, timing: Timing, operations: OperationManager,
                 outputs: OutputFiles) -> None:
        self.n = n_land_units
        self.timing = timing
        self.operations = operations
        self.variables: dict[str, AnyVariable] = {}
        self.outputs = outputs  # the run's output files, for modules that write files
        self.record_outputs = n_land_units > 1  # outputers keep arrays instead of writing text

    # pools
    def pool(self, name: str) -> Pool:
        return self.operations.pools[name]

    @property
    def pool_names(self) -> list[str]:
        return [definition.name for definition in self.operations.pool_defs]

    # variables: the first definition of a name wins, as in FLINT's std::map insert
    def add_variable(self, variable: AnyVariable) -> None:
        self.variables.setdefault(variable.name, variable)

    def variable(self, name: str) -> AnyVariable:
        return self.variables[name]

    def has_variable(self, name: str) -> bool:
        return name in self.variables

    # operations
    def create_stock_operation(self, module: Module, metadata: dict[str, Any] | None = None) -> Operation:
        return self.operations.create_stock(module.name, metadata)

    def create_proportional_operation(self, module: Module,
                                      metadata: dict[str, Any] | None = None) -> Operation:
        return self.operations.create_proportional(module.name, metadata)

    def submit_operation(self, operation: Operation) -> None:
        self.operations.submit(operation)

    def apply_operations(self) -> None:
        self.operations.apply()
