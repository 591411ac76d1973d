"""Time: UTC instants in, program-local calendar out. The only place that does calendar arithmetic."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .errors import ValidationFailed

# Clocks of order systems drift; a time further ahead than this is a client bug, not a late clock.
FUTURE_SLACK = timedelta(minutes=5)


def now() -> datetime:
    return datetime.now(UTC)


def event_time(value: datetime | None, field: str, now: datetime) -> datetime:
    """When a client says something happened (`paid_at`, `at`...): now when it says nothing."""
    if value is None:
        return now
    if value > now + FUTURE_SLACK:
        raise ValidationFailed.field(field, "must not be in the future")
    return value


def iso(at: datetime) -> str:
    """Stored and returned form: UTC, seconds precision, with offset."""
    return at.astimezone(UTC).isoformat(timespec="seconds")


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def local_date(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a program-local day begins."""
    return datetime.combine(day, datetime.min.time(), tzinfo=zone).astimezone(UTC)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_months_at(at: datetime, months: int, zone: ZoneInfo) -> datetime:
    """The same local time `months` later on the program's calendar, day clamped to the month's end."""
    local = at.astimezone(zone)
    day = add_months(local.date(), months)
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone).astimezone(UTC)


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_back(day: date, count: int) -> list[str]:
    """Month keys of the `count` months ending with `day`'s month, newest first."""
    newest = day.year * 12 + day.month - 1  # months since year 0: no calendar lookups per month
    return [month_key(date(m // 12, m % 12 + 1, 1)) for m in range(newest, newest - count, -1)]


def days(n: int) -> timedelta:
    return timedelta(days=n)


def period_key(per: str, day: date) -> str | None:
    """A calendar period's key for a program-local day (day, ISO week, month, year); keys of one kind
    sort as their periods do. None for a period that is not a calendar one (a campaign's life, a
    counter's lifetime: the caller names it)."""
    if per == "day":
        return day.isoformat()
    if per == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if per == "month":
        return month_key(day)
    if per == "year":
        return f"{day.year:04d}"
    return None
