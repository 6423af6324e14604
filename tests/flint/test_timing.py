"""moja date arithmetic and the CalendarSequencer's step calendar."""

from __future__ import annotations

from datetime import datetime

import pytest

from flintcloud.flint.numbers import almost_equal, format_number, is_zero
from flintcloud.flint.timing import Timing, add_months, format_datetime, parse_date


def test_add_months_clamps_the_day_to_the_month_end():
    assert add_months(datetime(2021, 3, 31), 1) == datetime(2021, 4, 30)
    assert add_months(datetime(2020, 1, 31), 1) == datetime(2020, 2, 29)
    assert add_months(datetime(2020, 1, 15), -1) == datetime(2019, 12, 15)
    assert add_months(datetime(2019, 12, 1), 13) == datetime(2021, 1, 1)


def test_step_date_is_end_minus_one_microsecond():
    timing = Timing(datetime(1920, 1, 1), datetime(1924, 12, 31))
    timing.cur_end_date = datetime(1920, 2, 1)
    assert format_datetime(timing.step_date) == "1920-01-31:23:59:59.999999"


def test_parse_date_rejects_what_flint_cannot_split():
    assert parse_date("2010/1/5") == datetime(2010, 1, 5)
    for bad in ("2010-01-01", "2010/02/30", "x/y/z"):
        with pytest.raises(ValueError):
            parse_date(bad)


def test_fraction_of_step_sets_full_step_with_float_tolerance():
    timing = Timing(datetime(2000, 1, 1), datetime(2001, 1, 1))
    timing.fraction_of_step = 1.0 - 2.0 ** -52
    assert timing.is_full_step
    timing.fraction_of_step = 0.999
    assert not timing.is_full_step


def test_format_number_matches_cpp_ostream():
    assert format_number(70.44045100000005) == "70.4404510000001"
    assert format_number(-245587165948202.2) == "-245587165948202"
    assert format_number(1.2345678901234567e15) == "1.23456789012346e+15"
    assert format_number(0.0001) == "0.0001"
    assert format_number(0.00001) == "1e-05"
    assert format_number(-0.0) == "-0"
    assert format_number(0.0846994535519126, 6) == "0.0846995"


def test_float_comparisons_use_four_ulps():
    tiny = 5e-324
    assert is_zero(0.0) and is_zero(-0.0) and is_zero(4 * tiny) and not is_zero(5 * tiny)
    assert almost_equal(1.0, 1.0 + 2 * 2.220446049250313e-16)
    assert not almost_equal(1.0, 1.0 + 5 * 2.220446049250313e-16)
    assert not almost_equal(float("nan"), float("nan"))
