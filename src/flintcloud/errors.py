"""One error hierarchy for every layer: each error knows its HTTP status and CLI exit code."""

from __future__ import annotations

from collections.abc import Sequence


class FlintError(Exception):
    """Base of all flintcloud errors. `source` names the file, `field` the key or JSON path."""

    code = "internal"
    title = "Internal error"
    http_status = 500
    exit_code = 1

    def __init__(
        self,
        detail: str,
        *,
        source: str | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.detail = detail
        self.source = source
        self.field = field
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = ": ".join(part for part in (self.source, self.field) if part)
        text = f"{where}: {self.detail}" if where else self.detail
        return f"{text} ({self.hint})" if self.hint else text

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "source": self.source,
                "field": self.field, "hint": self.hint}


class InputError(FlintError):
    """The user's input (config, file, parameter) is wrong; nothing ran."""

    code = "invalid_input"
    title = "Invalid input"
    http_status = 422
    exit_code = 2


class ConfigError(InputError):
    code = "invalid_config"
    title = "Invalid configuration"


class ParameterDbError(InputError):
    code = "invalid_parameters"
    title = "Invalid parameter database"


class RasterError(InputError):
    code = "invalid_raster"
    title = "Invalid raster"


class MissingInputError(InputError):
    """Something the inputs still lack (a layer, the database, an attribute table): inputs that
    arrive piece by piece, as uploads do, have such problems until they are complete."""

    code = "missing_input"
    title = "Missing input"


class InputProblems(InputError):
    """Every problem found in a set of inputs, reported together rather than one per attempt.
    `problems` keeps each one (with its own source and field) for field-level error lists."""

    def __init__(self, problems: Sequence[FlintError], *, source: str | None = None) -> None:
        self.problems = list(problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        lines = "".join(f"\n  - {problem.message}" for problem in self.problems)
        super().__init__(f"{len(self.problems)} {noun}:{lines}", source=source)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "errors": [problem.to_dict() for problem in self.problems]}


class NotFoundError(FlintError):
    code = "not_found"
    title = "Not found"
    http_status = 404
    exit_code = 4


class SimulationError(FlintError):
    """A land unit could not be simulated (FLINT's SimulationError), e.g. a forbidden negative transfer."""

    code = "simulation_failed"
    title = "Simulation failed"
    http_status = 422
    exit_code = 3


class EngineInvariantError(FlintError):
    """An invariant such as conservation of mass broke: a bug, never the user's fault."""

    code = "invariant_violated"
    title = "Engine invariant violated"


class CancelledError(FlintError):
    code = "cancelled"
    title = "Cancelled"
    http_status = 409
    exit_code = 130
