"""Pending points: what a purchase gives waits out the return window (`points.pending_days`) on the
profile, out of the balance and the ledger, so that a refund inside the window cancels it instead of
taking back points the member may already have spent.

The Change defers a purchase's credits here (`Change.defer_until`) and releases the due ones as it
starts (`Change.release_pending`), as it expires lapsed buckets: whichever write or points run
comes first on or after `available_on` credits them. Imported by `posting`, so it imports no rule
but `buckets` and `distribute` (which import none).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .. import clock
from ..member import Pending, Profile
from ..program import Expiry, Program
from . import buckets, distribute


def available_on(program: Program, paid_at: datetime) -> date | None:
    """The program-local day a purchase paid at `paid_at` makes its points spendable (None: at once)."""
    days = program.points.pending_days
    return clock.local_date(paid_at, program.zone) + timedelta(days=days) if days else None


def expires_on(p: Pending, today: date, expiry: Expiry) -> str:
    """A released pending credit's bucket: its expiry (the program's, or a campaign's expires_in_days)
    counted from `available_on` (the points
    are that month's, as the member saw them become spendable, whichever write credits them), unless
    that has passed already (a points run down for the whole expiry: our delay, not the client's):
    then from today, never born expired."""
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


def cancel(profile: Profile, ref: str, points: int, by_campaign: dict[str, int] | None = None) -> int:
    """A refund inside the window: up to `points` of what `ref` (its order) still has pending leave
    the profile, each part cut by what the refund takes back of it (rules/refunds.points_owed), so
    that what is released later is what a credit at once less the refund would have left: a
    campaign's points from the entries that name it, the rest (the earn and the first order bonus,
    which follow the money) in proportion to what each still has. Whatever a part cannot give
    (an order kept before its campaigns were) comes from the order's last credits first. Returns how
    many: only the rest of what the refund owes is taken from the balance."""
    mine = [k for k, p in enumerate(profile.pending) if p.ref == ref]
    left = [p.points for p in profile.pending]
    owed = dict(by_campaign or {}) if sum((by_campaign or {}).values()) <= points else {}
    for cid, n in owed.items():
        _take(left, [k for k in mine if cid in _campaigns(profile.pending[k])], n)
    base = [k for k in mine if not _campaigns(profile.pending[k])]
    shares = distribute.proportional(points - sum(owed.values()), [left[k] for k in base])
    for k, share in zip(base, shares, strict=True):
        left[k] -= share
    _take(left, mine[::-1], points - sum(profile.pending[k].points - left[k] for k in mine))
    cancelled = sum(profile.pending[k].points - left[k] for k in mine)
    kept = zip(profile.pending, left, strict=True)
    profile.pending = [p if n == p.points else p.model_copy(update={"points": n}) for p, n in kept if n]
    return cancelled


def _take(left: list[int], at: list[int], points: int) -> None:
    """Up to `points` out of `left` at the indexes `at`, the first first."""
    for k in at:
        take = min(points, left[k])
        left[k], points = left[k] - take, points - take


def _campaigns(p: Pending) -> list[str]:
    """The campaigns a pending entry is for (campaigns.run credits them as `campaign:a,b`)."""
    return p.reason.removeprefix("campaign:").split(",") if p.reason and p.reason.startswith("campaign:") else []
