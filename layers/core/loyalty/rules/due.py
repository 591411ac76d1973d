"""When a member is next due for scheduled points work. Sweeps read only members due on a day.

`expire`: the day after the earliest bucket's expiry date (the first day it is expired).
`remind`: 30 days before that bucket expires (or today, if it is closer), once per bucket.
"""

from __future__ import annotations

from datetime import date, timedelta

from . import buckets

REMIND_DAYS = 30


def earliest(held: buckets.Buckets) -> date | None:
    dated = [d for d, p in held.items() if d != buckets.NEVER and p > 0]
    return date.fromisoformat(min(dated)) if dated else None


def expire_day(held: buckets.Buckets) -> date | None:
    first = earliest(held)
    return first + timedelta(days=1) if first else None


def remind_day(held: buckets.Buckets, today: date, reminded: str | None, current: str | None) -> str | None:
    """The next reminder as "day/for-bucket", or None when the earliest bucket was announced already.

    A reminder already planned for the same bucket keeps its day, so writes do not move it daily."""
    first = earliest(held)
    if first is None or first.isoformat() == reminded:
        return None
    if current and current.endswith(f"/{first.isoformat()}"):
        return current
    return f"{max(today, first - timedelta(days=REMIND_DAYS)).isoformat()}/{first.isoformat()}"


def expiring_within(held: buckets.Buckets, today: date) -> dict[str, int]:
    """Buckets that expire in the next REMIND_DAYS days."""
    horizon = (today + timedelta(days=REMIND_DAYS)).isoformat()
    return {d: p for d, p in held.items() if d != buckets.NEVER and today.isoformat() <= d <= horizon}
