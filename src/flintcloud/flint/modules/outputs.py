"""OutputerStream and OutputerStreamFlux: FLINT's stock and flux CSV streams (flint-core-spec §9-10).

For a single land unit they write moja.cli's bytes exactly, to a file and optionally to the
screen. For a batch they record the same rows as arrays, for the runner to write as a table.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TextIO, TypeVar

import numpy as np

from flintcloud.flint.module import Module
from flintcloud.flint.numbers import format_number
from flintcloud.flint.signals import NotificationCenter, Signal
from flintcloud.flint.timing import format_datetime

RULE = "=" * 74


@dataclass(slots=True)
class StockRow:
    notification: str
    step: int
    step_date: datetime
    fraction_of_step: float
    step_length_in_years: float
    pools: np.ndarray  # (n_pools, n) copy of the pool values
    variables: list[Any]


@dataclass(slots=True)
class FluxRow:
    step: int
    step_start: datetime
    module_name: str
    source: int
    sink: int
    values: np.ndarray  # (n,) flux per land unit; 0 where not applied
    applied: np.ndarray | None  # (n,) bool, None = every land unit


def format_variable(value: Any) -> str:
    """A variable's value as OutputerStream prints it."""
    if isinstance(value, np.ndarray):
        value = value.reshape(-1)[0] if value.size else None
    if value is None:
        return "[null]"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return format_number(float(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, datetime):
        return f'"{value.year}/{value.month}/{value.day}"'
    if isinstance(value, dict):
        return "[struct]"
    if isinstance(value, list | tuple):
        return "[vector]"
    return "[struct]"


class _TextStream:
    """A tee of the output file and, optionally, the screen."""

    def __init__(self, file: TextIO, screen: TextIO | None) -> None:
        self.targets = [t for t in (file, screen) if t is not None]

    def line(self, text: str) -> None:
        for target in self.targets:
            target.write(text + "\n")


_Row = TypeVar("_Row", StockRow, FluxRow)


class _StreamOutputer(Module, Generic[_Row]):
    default_info_header = True

    def configure(self) -> None:
        settings = self.settings
        self.filename = settings.string("output_filename", "OutputerStreamFlux.txt")  # sic, upstream
        self.to_screen = settings.boolean("output_to_screen", True)
        self.info_header = settings.boolean("output_info_header", self.default_info_header)
        self.rows: list[_Row] = []
        self.stream: _TextStream | None = None

    def _open(self) -> None:
        if self.land_unit.record_outputs:
            return  # rows are recorded as arrays, for the runner to write as a table
        outputs = self.land_unit.outputs
        file = outputs.open_text(self.filename, self.settings, "output_filename")
        self.stream = _TextStream(file, outputs.screen if self.to_screen else None)


class OutputerStream(_StreamOutputer[StockRow]):
    """Pool values (and chosen variables) at the init step and at each output step."""

    description = "Writes pool values at every output step as CSV."

    def configure(self) -> None:
        super().configure()
        settings = self.settings
        self.annual_only = settings.boolean("output_annual_only", False)
        self.write_on_output_step = settings.boolean("output_on_outputstep", True)
        self.on_end_step = settings.boolean("output_on_timingendstep", False)
        self.on_disturbance = settings.boolean("output_on_postdisturbanceevent", False)
        self.variable_names = self._variable_names()
        self._first_row = True

    def _variable_names(self) -> list[str]:
        if "variables" not in self.settings:
            return []
        names = []
        for item in self.settings.child("variables").elements():
            if not isinstance(item.value, str):
                raise item.error("expected a variable name (string)")
            names.append(item.value)
        return names

    def subscribe(self, bus: NotificationCenter) -> None:
        bus.subscribe(Signal.SystemInit, self.on_system_init)
        bus.subscribe(Signal.SystemShutdown, self.on_system_shutdown)
        bus.subscribe(Signal.TimingPostInit, lambda: self.write_row("onTimingPostInit"))
        bus.subscribe(Signal.OutputStep, self.on_output_step)
        if self.on_end_step:
            bus.subscribe(Signal.TimingEndStep, lambda: self.write_row("onTimingEndStep"))
        if self.on_disturbance:
            bus.subscribe(Signal.PostDisturbanceEvent, lambda *_: self.write_row("onPostDisturbanceEvent"))

    def on_system_init(self) -> None:
        self._open()
        if self.stream is None:
            return
        if self.info_header:
            self.stream.line("OutputerStream")
            self.stream.line(RULE)
            self.stream.line("Started:" + time.strftime("%c %Z", time.localtime()))
            self.stream.line(RULE)
        names = self.land_unit.pool_names + self.variable_names
        self.stream.line("notification,step,stepDate,fracOfStep,stepLenInYears," +
                         "".join(f"{name}," for name in names))

    def on_output_step(self) -> None:
        if self.write_on_output_step and (not self.annual_only or self.land_unit.timing.cur_start_date.month == 12):
            self.write_row("onOutputStep")

    def _variable_value(self, name: str) -> Any:
        base, _, prop = name.partition(".")
        if not self.land_unit.has_variable(base):
            return _MISSING_VARIABLE
        value = self.land_unit.variable(base).value
        if prop:
            value = value.get(prop) if isinstance(value, dict) else getattr(value, prop, None)
        return value

    def write_row(self, notification: str) -> None:
        timing = self.land_unit.timing
        pools = self.land_unit.operations.values
        variables = [self._variable_value(name) for name in self.variable_names]
        if self.stream is None:
            self.rows.append(StockRow(notification, timing.step, timing.step_date,
                                      timing.fraction_of_step, timing.step_length_in_years,
                                      pools.copy(), variables))
            return
        # The tee stream starts at precision 6 and setprecision(15) is applied after the two
        # timing fields of each row, so only the first row prints them at precision 6.
        timing_precision = 6 if self._first_row else 15
        self._first_row = False
        fields = [notification, str(timing.step), format_datetime(timing.step_date),
                  format_number(timing.fraction_of_step, timing_precision),
                  format_number(timing.step_length_in_years, timing_precision)]
        fields += [format_number(float(value)) for value in pools[:, 0]]
        fields += ["(missing variable)" if v is _MISSING_VARIABLE else format_variable(v)
                   for v in variables]
        self.stream.line(",".join(fields) + ",")

    def on_system_shutdown(self) -> None:
        if self.stream is not None and self.info_header:
            self.stream.line(RULE)
            self.stream.line("Finished:" + time.strftime("%c %Z", time.localtime()))
            self.stream.line(RULE)


_MISSING_VARIABLE = object()


class OutputerStreamFlux(_StreamOutputer[FluxRow]):
    """Every applied flux: at the init step and at each step's end (and after disturbances)."""

    description = "Writes every applied flux as CSV."
    default_info_header = False

    def subscribe(self, bus: NotificationCenter) -> None:
        bus.subscribe(Signal.SystemInit, self.on_system_init)
        bus.subscribe(Signal.SystemShutdown, self.on_system_shutdown)
        bus.subscribe(Signal.TimingPostInit, self.write_fluxes)
        bus.subscribe(Signal.TimingEndStep, self.write_fluxes)
        bus.subscribe(Signal.PostDisturbanceEvent, lambda *_: self.write_fluxes())

    def on_system_init(self) -> None:
        self._open()
        if self.stream is None:
            return
        if self.info_header:
            self.stream.line("OutputerStreamFlux")
            self.stream.line(RULE)
            self.stream.line("Started:" + format_datetime(datetime.now(UTC).replace(tzinfo=None)))
            self.stream.line(RULE)
        self.stream.line("step,step date,module name,disturbance_type,source pool,sink pool,value")

    def write_fluxes(self) -> None:
        timing = self.land_unit.timing
        names = self.land_unit.pool_names
        n = self.land_unit.n
        for result in self.land_unit.operations.last_applied:
            for flux in result.fluxes:
                if flux.source == flux.sink:
                    continue
                if self.stream is None:
                    self.rows.append(FluxRow(timing.step, timing.cur_start_date, result.module_name,
                                             flux.source, flux.sink, flux.values_for(n), flux.applied))
                    continue
                if flux.applied is not None and not flux.applied[0]:
                    continue
                value = float(np.reshape(flux.values, -1)[0])
                # upstream writes 6 fields under its 7-name header: no disturbance_type value
                self.stream.line(f"{timing.step},{format_datetime(timing.cur_start_date)},"
                                 f"{result.module_name},{names[flux.source]},{names[flux.sink]},"
                                 f"{format_number(value)}")

    def on_system_shutdown(self) -> None:
        if self.stream is not None and self.info_header:
            self.stream.line(RULE)
            self.stream.line("Finished:" + format_datetime(datetime.now(UTC).replace(tzinfo=None)))
            self.stream.line(RULE)
