"""Counters (API.md "The rule engine's reach"): what the member's profile keeps of each counter, per
program-local period, and how it is read (the fact `member.counters.<id>`, the member view).

Counts live on the profile, so counting costs no read and commits with the event's write. Each
counter keeps its current period and the ones before it that a late event may still reach (`KEPT`,
as far back as a campaign's per-member limit keeps its uses); an event older than that is not
counted, and its fact is absent (an expression that reads it does not hold, as a per-member limit
then counts as reached). What an event counts is rules/counting.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .. import clock
from ..member import Profile
from ..program import Program

# How many periods each counter keeps, the current one included.
KEPT = {"day": 62, "week": 14, "month": 13, "year": 2, "lifetime": 1}
LIFETIME = "lifetime"


def period(per: str, day: date) -> str:
    """The period key of a program-local day: keys of one kind sort as their periods do (day and month
    keys are those of campaigns' per-member limits)."""
    return clock.period_key(per, day) or LIFETIME


def oldest(per: str, today: date) -> str:
    """The oldest period a counter keeps today."""
    back = KEPT[per] - 1
    if per == "day":
        return period(per, today - timedelta(days=back))
    if per == "week":
        return period(per, today - timedelta(weeks=back))
    if per == "month":
        return period(per, clock.add_months(today, -back))
    if per == "year":
        return period(per, date(today.year - back, 1, 1))
    return LIFETIME


def _kind(key: str) -> str:
    """Which period a key is of (an operator may change a counter's period and keep its id)."""
    if key == LIFETIME:
        return "lifetime"
    return {10: "day", 8: "week", 7: "month", 4: "year"}.get(len(key), "")


def key_at(program: Program, per: str, at: datetime, today: date) -> str | None:
    """The period an event at `at` counts in, None when it is older than the counter keeps."""
    key = period(per, clock.local_date(at, program.zone))
    return key if key >= oldest(per, today) else None


def facts(program: Program, profile: Profile, at: datetime, today: date) -> dict[str, int]:
    """`member.counters`: each counter's count in the period of `at`, as the profile has it (before
    the event); a counter whose period is no longer kept is left out."""
    found: dict[str, int] = {}
    for c in program.counters:
        key = key_at(program, c.period, at, today)
        if key is not None:
            found[c.id] = profile.counters.get(c.id, {}).get(key, 0)
    return found


def view(program: Program, profile: Profile, today: date) -> dict[str, int]:
    """The member view's `counters`: every counter of the program in its current period."""
    return {c.id: profile.counters.get(c.id, {}).get(period(c.period, today), 0) for c in program.counters}


def add(profile: Profile, counter_id: str, key: str, n: int) -> None:
    periods = profile.counters.setdefault(counter_id, {})
    periods[key] = periods.get(key, 0) + n


def take(profile: Profile, counter_id: str, key: str, n: int) -> None:
    """Take back what an event counted (a refund): never below zero; a period no longer kept has
    nothing to take back."""
    periods = profile.counters.get(counter_id)
    if not periods or key not in periods:
        return
    left = periods[key] - n
    if left > 0:
        periods[key] = left
    else:
        del periods[key]
        if not periods:
            del profile.counters[counter_id]


def prune(program: Program, profile: Profile, today: date) -> None:
    """Keep the program's counters only, each with its kept periods of its own kind (and no zeros)."""
    kept: dict[str, dict[str, int]] = {}
    for c in program.counters:
        first = oldest(c.period, today)
        periods = {
            k: n for k, n in profile.counters.get(c.id, {}).items() if n > 0 and _kind(k) == c.period and k >= first
        }
        if periods:
            kept[c.id] = periods
    profile.counters = kept
