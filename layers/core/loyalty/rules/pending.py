"""Pending points: what a purchase gives waits out the return window (`points.pending_days`) on the
profile, out of the balance and the ledger, so that a refund inside the window cancels it instead of
taking back points the member may already have spent.

The Change defers a purchase's credits here (`Change.defer_until`) and releases the due ones as it
starts (`Change.release_pending`), as it expires lapsed buckets: whichever write or points run
comes first on or after `available_on` credits them. Imported by `posting`, so it imports no rule
but `buckets` (which imports none).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .. import clock
from ..member import Pending, Profile
from ..program import Expiry, Program
from . import buckets


def available_on(program: Program, paid_at: datetime) -> date | None:
    """The program-local day a purchase paid at `paid_at` makes its points spendable (None: at once)."""
    days = program.points.pending_days
    return clock.local_date(paid_at, program.zone) + timedelta(days=days) if days else None


def expires_on(p: Pending, today: date, expiry: Expiry) -> str:
    """A released pending credit's bucket: its expiry (the program's, or a campaign's expires_in_days)
    counted from `available_on` (the points
    are that month's, as the member saw them become spendable, whichever write credits them), unless
    that has passed already (a points run down for the whole expiry): then from today, never born
    expired, as a late-synced order's points are not."""
    day = buckets.expires_on(date.fromisoformat(p.available_on), expiry, p.lasts_days)
    return day if day >= today.isoformat() else buckets.expires_on(today, expiry, p.lasts_days)


def split(pending: list[Pending], today: date) -> tuple[list[Pending], list[Pending]]:
    """(still waiting, due on or before `today`)."""
    day = today.isoformat()
    return [p for p in pending if p.available_on > day], [p for p in pending if p.available_on <= day]


def first_day(pending: list[Pending]) -> date | None:
    """The day the next pending points become spendable: the points run's due day for them."""
    return date.fromisoformat(min(p.available_on for p in pending)) if pending else None


def view(pending: list[Pending]) -> list[dict[str, object]]:
    """The member view's `points.pending`: not credited yet (a row whose day has come is credited by the
    member's next write or the points run, whichever first), one row per order and day."""
    rows: dict[tuple[str, str], int] = {}
    for p in pending:
        rows[(p.available_on, p.ref)] = rows.get((p.available_on, p.ref), 0) + p.points
    return [{"points": n, "available_on": day, "ref": ref} for (day, ref), n in sorted(rows.items())]


def cancel(profile: Profile, ref: str, points: int) -> int:
    """A refund inside the window: up to `points` of what `ref` (its order) still has pending leave
    the profile, its last credits first (the campaigns', the bonus, then the earn). Returns how many:
    only the rest of what the refund owes is taken from the balance."""
    left, kept = points, []
    for p in reversed(profile.pending):
        take = min(left, p.points) if p.ref == ref else 0
        left -= take
        if p.points > take:
            kept.append(p.model_copy(update={"points": p.points - take}) if take else p)
    profile.pending = kept[::-1]
    return points - left
