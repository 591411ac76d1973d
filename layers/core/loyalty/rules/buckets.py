"""Points held in expiry buckets: {expires_on (YYYY-MM-DD): points}.

Spending takes the earliest-expiring bucket first; a bucket is expired once its date has passed in
the program's time zone. Every function returns new dicts and never leaves a bucket at or below zero.
"""

from __future__ import annotations

from datetime import date, timedelta

from ..clock import add_months, end_of_month
from ..errors import InsufficientPoints
from ..program import Expiry

Buckets = dict[str, int]
NEVER = "9999-12-31"


def expires_on(earned_on: date, expiry: Expiry, lasts_days: int | None = None) -> str:
    """Points earned in month M under rolling_months N expire at the end of month M+N; points that
    last `lasts_days` (a grant's own expiry) at the end of that many days after `earned_on`, whatever
    the policy (a bucket's date is its last day)."""
    if lasts_days:
        return (earned_on + timedelta(days=lasts_days)).isoformat()
    if expiry.policy == "never":
        return NEVER
    return end_of_month(add_months(earned_on.replace(day=1), expiry.months)).isoformat()


def total(buckets: Buckets) -> int:
    return sum(buckets.values())


def add(buckets: Buckets, expiry_day: str, points: int) -> Buckets:
    if points <= 0:
        return dict(buckets)
    return {**buckets, expiry_day: buckets.get(expiry_day, 0) + points}


def take(buckets: Buckets, points: int) -> Buckets:
    """Spend `points`, earliest-expiring first; InsufficientPoints if the buckets hold fewer."""
    if points > total(buckets):
        raise InsufficientPoints(needed=points, available=total(buckets))
    left = dict(sorted(buckets.items()))
    remaining = points
    for day in list(left):
        used = min(left[day], remaining)
        left[day] -= used
        remaining -= used
        if left[day] == 0:
            del left[day]
        if remaining == 0:
            break
    return left


def split_expired(buckets: Buckets, today: date) -> tuple[Buckets, Buckets]:
    """(live, expired): a bucket dated before `today` has expired."""
    cutoff = today.isoformat()
    live = {d: p for d, p in buckets.items() if d >= cutoff}
    expired = {d: p for d, p in buckets.items() if d < cutoff}
    return live, expired
