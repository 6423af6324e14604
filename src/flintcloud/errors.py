"""One error hierarchy for every layer: each error knows its HTTP status and CLI exit code."""

from __future__ import annotations

from collections.abc import Iterable

# An error quotes values from its input (a key, a cell, a path); a huge value must not make a
# huge answer. Longer texts are clipped where the error is made, for the CLI and the API alike.
MAX_TEXT_CHARS = 2000
MAX_NAME_CHARS = 300
MAX_LISTED_PROBLEMS = 50  # in an InputProblems' summary; `problems` keeps every one


def clip(text: str | None, limit: int = MAX_TEXT_CHARS) -> str | None:
    """`text` cut to about `limit` characters, saying how long it was."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters, cut)"


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
        self.detail = detail if self._lists_problems else clip(detail) or ""
        self.source = clip(source, MAX_NAME_CHARS)
        self.field = clip(field, MAX_NAME_CHARS)
        self.hint = clip(hint)
        super().__init__(self.message)

    _lists_problems = False  # InputProblems bounds its summary by counting problems instead

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
    `problems` keeps each one (with its own source and field) for field-level error lists.

    It is also the collector: start with `InputProblems()`, `add` each problem as it is found,
    then `raise_if_any()`. `detail` replaces the summary of the problems ("2 problems: ...").
    The summary lists the first MAX_LISTED_PROBLEMS; `problems` keeps them all."""

    _lists_problems = True

    def __init__(self, problems: Iterable[FlintError] = (), *, source: str | None = None,
                 detail: str | None = None, hint: str | None = None) -> None:
        self.problems: list[FlintError] = []
        for problem in problems:
            self.add_error(problem)
        self._summary = detail
        super().__init__(self._describe(), source=source, hint=hint)

    def _describe(self) -> str:
        if self._summary is not None:
            return self._summary
        noun = "problem" if len(self.problems) == 1 else "problems"
        lines = "".join(f"\n  - {problem.message}"
                        for problem in self.problems[:MAX_LISTED_PROBLEMS])
        if len(self.problems) > MAX_LISTED_PROBLEMS:
            lines += f"\n  - … and {len(self.problems) - MAX_LISTED_PROBLEMS:,} more"
        return f"{len(self.problems)} {noun}:{lines}"

    def add(self, detail: str, *, source: str | None = None, field: str | None = None,
            hint: str | None = None, kind: type[InputError] = InputError) -> None:
        self.problems.append(kind(detail, source=source, field=field, hint=hint))

    def add_error(self, error: FlintError) -> None:
        """Add `error`, or each of its problems when it is an InputProblems itself."""
        if isinstance(error, InputProblems):
            self.problems.extend(error.problems)
        else:
            self.problems.append(error)

    def raise_if_any(self, source: str | None = None) -> None:
        """Raise this, naming `source`, when any problem was added."""
        if not self.problems:
            return
        if source is not None:
            self.source = source
        self.detail = self._describe()
        self.args = (self.message,)
        raise self

    def to_dict(self) -> dict:
        return {**super().to_dict(), "errors": [problem.to_dict() for problem in self.problems]}


class UnsupportedFileError(InputError):
    """A file that is none of the kinds the inputs take."""

    code = "invalid_file"
    title = "Invalid file"


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
