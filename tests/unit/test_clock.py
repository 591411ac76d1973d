"""Calendar arithmetic (clock.py): month steps clamp to the month's end; local dates follow the zone."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty import clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
FAST = settings(max_examples=200, deadline=None, derandomize=True)


# --- add_months -----------------------------------------------------------------------------------


def test_jan_31_plus_a_month_is_feb_28() -> None:
    assert clock.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)


def test_jan_31_plus_a_month_is_feb_29_in_a_leap_year() -> None:
    assert clock.add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)


def test_a_day_every_month_has_is_kept() -> None:
    assert clock.add_months(date(2026, 1, 15), 1) == date(2026, 2, 15)


def test_adding_months_crosses_the_year_end() -> None:
    assert clock.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert clock.add_months(date(2026, 12, 31), 12) == date(2027, 12, 31)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2028, 3, 31), -1, date(2028, 2, 29)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 1, 31), -13, date(2024, 12, 31)),
        (date(2028, 2, 29), -12, date(2027, 2, 28)),
    ],
)
def test_negative_months_go_back_and_clamp(start: date, months: int, expected: date) -> None:
    assert clock.add_months(start, months) == expected


def test_zero_months_is_the_same_day() -> None:
    assert clock.add_months(date(2026, 2, 28), 0) == date(2026, 2, 28)


@FAST
@given(st.dates(date(1900, 1, 1), date(2300, 12, 31)), st.integers(-1200, 1200))
def test_add_months_moves_the_month_and_clamps_the_day(start: date, months: int) -> None:
    moved = clock.add_months(start, months)
    assert (moved.year * 12 + moved.month) - (start.year * 12 + start.month) == months
    assert moved.day == min(start.day, calendar.monthrange(moved.year, moved.month)[1])


def test_end_of_month() -> None:
    assert clock.end_of_month(date(2028, 2, 3)) == date(2028, 2, 29)
    assert clock.end_of_month(date(2026, 12, 31)) == date(2026, 12, 31)


# --- months_back ----------------------------------------------------------------------------------


def test_months_back_lists_the_month_keys_newest_first() -> None:
    assert clock.months_back(date(2026, 5, 31), 3) == ["2026-05", "2026-04", "2026-03"]


def test_months_back_crosses_the_year_end() -> None:
    assert clock.months_back(date(2026, 1, 9), 3) == ["2026-01", "2025-12", "2025-11"]


def test_months_back_from_a_31st_skips_no_month() -> None:
    assert clock.months_back(date(2026, 3, 31), 2) == ["2026-03", "2026-02"]


def test_months_back_of_one_is_this_month() -> None:
    assert clock.months_back(date(2026, 7, 4), 1) == ["2026-07"]


@FAST
@given(st.dates(date(1900, 1, 1), date(2300, 12, 31)), st.integers(1, 36))
def test_months_back_are_distinct_consecutive_months(day: date, count: int) -> None:
    keys = clock.months_back(day, count)
    assert len(set(keys)) == count and keys == sorted(keys, reverse=True)
    assert keys[0] == clock.month_key(day)


# --- local dates and instants ---------------------------------------------------------------------


def test_8pm_utc_is_already_tomorrow_in_shanghai() -> None:
    late = datetime(2026, 6, 30, 20, tzinfo=UTC)
    assert clock.local_date(late, SHANGHAI) == date(2026, 7, 1)
    assert clock.local_date(late, ZoneInfo("UTC")) == date(2026, 6, 30)


def test_the_local_date_crosses_a_year_in_shanghai() -> None:
    assert clock.local_date(datetime(2026, 12, 31, 16, tzinfo=UTC), SHANGHAI) == date(2027, 1, 1)
    assert clock.local_date(datetime(2026, 12, 31, 15, 59, 59, tzinfo=UTC), SHANGHAI) == date(2026, 12, 31)


def test_the_local_date_is_still_yesterday_west_of_utc() -> None:
    early = datetime(2026, 7, 1, 3, tzinfo=UTC)
    assert clock.local_date(early, ZoneInfo("America/New_York")) == date(2026, 6, 30)


def test_iso_is_utc_to_the_second() -> None:
    at = datetime(2026, 7, 1, 8, 30, 15, 999999, tzinfo=SHANGHAI)
    assert clock.iso(at) == "2026-07-01T00:30:15+00:00"


def test_parse_reads_any_offset_into_utc() -> None:
    assert clock.parse("2026-07-01T08:30:00+08:00") == datetime(2026, 7, 1, 0, 30, tzinfo=UTC)
    assert clock.parse("2026-07-01T08:30:00+08:00").utcoffset() == timedelta(0)


def test_parse_and_iso_round_trip() -> None:
    at = datetime(2026, 2, 28, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5)))
    assert clock.parse(clock.iso(at)) == at
