"""Sequencers of `internal.flint` (flint-core-spec §5, §13.2)."""

from __future__ import annotations

from datetime import datetime

from flintcloud.flint.module import Sequencer
from flintcloud.flint.signals import NotificationCenter, Signal
from flintcloud.flint.timing import Timing, add_months, days_in_month, days_in_year


class CalendarSequencer(Sequencer):
    """Monthly steps over calendar months; only the year and month of the dates matter."""

    description = "Monthly time steps from the start month to the end month, inclusive."

    def configure_timing(self, timing: Timing) -> None:
        # Overrides SequencerModuleBase::configure, so stepLengthInYears is left at 0 here:
        # that is why the first output row prints 0 for it.
        self.timing = timing

    def run(self, bus: NotificationCenter) -> None:
        timing = self.timing
        start, end = timing.start_date, timing.end_date
        actual_start = add_months(datetime(start.year, start.month, 1), -1)
        actual_end = add_months(datetime(end.year, end.month, 1), 1)
        timing.cur_start_date = timing.cur_end_date = actual_start
        timing.step = 0
        timing.sub_step = 0
        for signal in (Signal.TimingInit, Signal.TimingPrePostInit, Signal.TimingPostInit,
                       Signal.TimingPostInit2):
            bus.post(signal)
        current = add_months(actual_start, 1)
        step = 1
        while current < actual_end:
            following = add_months(current, 1)
            timing.step_length_in_years = (
                float(days_in_month(current.year, current.month)) / float(days_in_year(current.year))
            )
            timing.start_step_date = timing.cur_start_date = current
            timing.end_step_date = timing.cur_end_date = following
            timing.step = step
            timing.sub_step = 1
            timing.fraction_of_step = 1.0
            for signal in (Signal.TimingStep, Signal.TimingPreEndStep, Signal.TimingEndStep,
                           Signal.OutputStep, Signal.TimingPostStep):
                bus.post(signal)
            current = following
            step += 1
        bus.post(Signal.TimingShutdown)
