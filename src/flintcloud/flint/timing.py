"""moja DateTime arithmetic and the Timing object that sequencers drive (flint-core-spec §5)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flintcloud.flint.numbers import almost_equal

ONE_MICROSECOND = timedelta(microseconds=1)


def add_months(when: datetime, months: int) -> datetime:
    """moja's addMonths: move the month field, clamping the day to the end of the month."""
    index = when.year * 12 + (when.month - 1) + months
    year, month0 = divmod(index, 12)
    day = min(when.day, calendar.monthrange(year, month0 + 1)[1])
    return when.replace(year=year, month=month0 + 1, day=day)


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def format_datetime(when: datetime) -> str:
    """moja's stream format: YYYY-MM-DD:HH:MM:SS.ffffff."""
    return f"{when:%Y-%m-%d:%H:%M:%S}.{when.microsecond:06d}"


def parse_date(text: str) -> datetime:
    """FLINT's "YYYY/MM/DD" (split on '/', each part an integer). Raises ValueError."""
    parts = text.split("/")
    if len(parts) != 3:
        raise ValueError(f"expected a date 'YYYY/MM/DD', got {text!r}")
    year, month, day = (int(part) for part in parts)
    return datetime(year, month, day)


@dataclass
class Timing:
    """The land-unit controller's timing state; fields mirror moja::flint::Timing."""

    start_date: datetime
    end_date: datetime
    stepping: str = "monthly"
    start_step_date: datetime = field(init=False)
    end_step_date: datetime = field(init=False)
    cur_start_date: datetime = field(init=False)
    cur_end_date: datetime = field(init=False)
    step_length_in_years: float = 0.0
    step: int = 0
    sub_step: int = 0
    _fraction_of_step: float = 1.0
    is_full_step: bool = True

    def __post_init__(self) -> None:
        self.init()

    def init(self) -> None:
        """Timing::init(): fraction 1, step 0, every step date = start date (length stays as is)."""
        self.fraction_of_step = 1.0
        self.step = 0
        self.sub_step = 0
        self.start_step_date = self.end_step_date = self.start_date
        self.cur_start_date = self.cur_end_date = self.start_date

    @property
    def fraction_of_step(self) -> float:
        return self._fraction_of_step

    @fraction_of_step.setter
    def fraction_of_step(self, value: float) -> None:
        self._fraction_of_step = value
        self.is_full_step = almost_equal(value, 1.0)

    @property
    def step_date(self) -> datetime:
        """The date FLINT prints for a step: the step's end minus one microsecond."""
        return self.cur_end_date - ONE_MICROSECOND
