"""Blocked members and the program's daily abuse limits (`abuse` in the program document).

A blocked member earns and spends nothing: every write that would is refused (`refuse_blocked`), and
`rules/due.days` gives it no due days, so no sweep reads it while it is blocked.

`abuse: {max_orders_per_day, max_points_per_day}`, per program-local day (the day the order is
written, not its `paid_at`, which the client sends: a late order cannot reopen a past day): an order earns only while
the member's orders that day are under `max_orders_per_day` and the points its orders earned that day
are under `max_points_per_day`. The order that crosses the points cap earns in full (the cap is
checked before the order, so the rule needs no partial credit); every order after it earns nothing.
An order withheld still counts for spend, orders and the tier metric. Each limit that withholds an
order flags the member once per day (`Profile.flags`), which the stream announces as `Member Flagged`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..errors import MemberBlocked
from ..member import AbuseDay, Blocked, Flag, Profile
from ..program import Program
from .posting import Change

KEPT_FLAGS = 50  # the member view shows the latest flags; older ones are in the stream's events


def refuse_blocked(profile: Profile) -> None:
    """409 `member_blocked` for a write that would earn or spend: raised before anything is built."""
    if profile.blocked is not None:
        raise MemberBlocked(profile.member_id)


def block(change: Change, reason: str) -> bool:
    """Block the member (False: blocked already, the first block's time and reason stay)."""
    if change.profile.blocked is not None:
        return False
    change.profile.blocked = Blocked(at=change.at, reason=reason)
    return True


def unblock(change: Change) -> bool:
    """Lift the block (False: not blocked). The write's due days come back with it (rules/due.days)."""
    if change.profile.blocked is None:
        return False
    change.profile.blocked = None
    return True


def _today(profile: Profile, day: date) -> AbuseDay:
    """The member's counts for `day` (a fresh day when the kept one is another)."""
    kept = profile.abuse_day
    return kept if kept is not None and kept.day == day.isoformat() else AbuseDay(day=day.isoformat())


def withheld(program: Program, profile: Profile, day: date) -> str | None:
    """The limit that keeps an order on `day` from earning (its key), or None when it may earn. A
    blocked member's order earns nothing either: its write is refused, but a quote or a checkout's
    preview must not promise it anything (`member_blocked`)."""
    if profile.blocked is not None:
        return "member_blocked"
    limits = program.abuse
    if limits is None:
        return None
    counts = _today(profile, day)
    if limits.max_orders_per_day is not None and counts.orders >= limits.max_orders_per_day:
        return "max_orders_per_day"
    if limits.max_points_per_day is not None and counts.points >= limits.max_points_per_day:
        return "max_points_per_day"
    return None


def on_order(change: Change, explained: dict[str, Any], bonus: int) -> tuple[str | None, dict[str, Any], int]:
    """An order's limit (None: it may earn), its breakdown and first-order bonus: when a limit
    withholds it, `earned` 0 and the breakdown says which limit (`withheld`), and no bonus."""
    limit = withheld(change.program, change.profile, change.today)
    if limit is None:
        return None, explained, bonus
    calculation = f"{explained['calculation']}; past abuse.{limit} today: 0"
    return limit, {**explained, "earned": 0, "calculation": calculation, "withheld": limit}, 0


def count_order(change: Change, points: int, limit: str | None) -> bool:
    """Count an order written today that earned `points` (0 when `limit` withheld it); flag the member
    when a limit withheld it, once per limit and day. True when this order flagged the member."""
    program, p = change.program, change.profile
    if program.abuse is None:
        return False
    counts = _today(p, change.today)
    p.abuse_day = AbuseDay(day=counts.day, orders=counts.orders + 1, points=counts.points + points)
    if limit in (None, "member_blocked") or any(f.kind == limit and f.day == counts.day for f in p.flags):
        return False
    p.flags = [*p.flags, Flag(kind=limit, at=change.at, day=counts.day)][-KEPT_FLAGS:]  # type: ignore[arg-type]
    return True
