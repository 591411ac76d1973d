"""When a member is next due for each scheduled kind, and the last rules of every write. Sweeps read
only members due on a day.

`expire`: the day after the earliest bucket's expiry date (the first day it is expired), or the day
the first pending points become spendable, whichever comes first (the points run does both).
`remind`: 30 days before that bucket expires (or today, if it is closer), once per bucket.
"""

from __future__ import annotations

from datetime import date, timedelta

from . import benefits, buckets, campaigns, cards, lifecycle, pending, rfm, tiers
from .posting import Change

REMIND_DAYS = 30
KINDS = ("rfm", "cards", "benefits", "tier_review", "expire", "remind", "churn")


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


def days(change: Change) -> dict[str, str | None]:
    """The days this member is next due for each scheduled kind (None: not due). A blocked member is
    due for nothing: the block's write removes its DUE items, the unblock's puts them back."""
    program, p, today = change.program, change.profile, change.today
    if p.blocked is not None:
        return dict.fromkeys(KINDS)
    wallets = [expire_day(held) for held in p.wallets.values()]
    expire = min(filter(None, [expire_day(p.buckets), pending.first_day(p.pending), *wallets]), default=None)
    churn = lifecycle.churn_day(program, p)
    review = tiers.next_review(program, p)
    gifts = benefits.benefits_day(program, p, today)
    card = cards.next_day(program, p)
    segment = rfm.next_change(program, p, today)
    return {
        "rfm": segment.isoformat() if segment else None,
        "cards": card.isoformat() if card else None,
        "benefits": gifts.isoformat() if gifts else None,
        "tier_review": review.isoformat() if review else None,
        "expire": expire.isoformat() if expire else None,
        "remind": remind_day(p.buckets, today, p.reminded, p.due_days.get("remind")),
        "churn": churn.isoformat() if churn else None,
    }


def finish(change: Change) -> dict[str, str | None]:
    """The last rules of every write, run once its rules are applied and just before it is committed
    (usecases/pipeline.commit): the campaigns the write's own outcome triggers (a tier change, whichever
    write made it), the derived RFM segment refreshed, and the due days this change moved, recorded on
    the profile; returns those moved days. The store rewrites only those index items (a day of None
    removes the member from that kind's index)."""
    campaigns.after(change)
    rfm.refresh(change)
    moved = {kind: day for kind, day in days(change).items() if change.profile.due_days.get(kind) != day}
    change.profile.due_days = {k: v for k, v in {**change.profile.due_days, **moved}.items() if v}
    return moved
