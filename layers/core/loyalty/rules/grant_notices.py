"""The member's notice of a grant made outside a campaign (the birthday gift, the churn warning's and
the recall's offers, either side's referral reward): what the grant gave, in the grant's own write.

What it gave is read off the Change between a `mark` taken before the grant and the notice: the ledger
entries (points and wallets), the coupons and the pending points (a reward waiting out a return window)
it added, so a grant its budget skipped, or one that gives nothing, leaves no notice. The notice id is
the grant's own reference (`{kind}.{source}`), and the write that makes the grant makes it once (the
sweeps' state, the referral's status, pipeline.once), so no repeat leaves a second notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..member import Notice
from .posting import Change


@dataclass(frozen=True)
class Mark:
    entries: int
    coupons: int
    pending: int


def mark(change: Change) -> Mark:
    return Mark(len(change.entries), len(change.coupons), len(change.profile.pending))


def notice(
    change: Change,
    since: Mark,
    kind: str,
    source: str,
    reason: str | None = None,
    active_until: datetime | None = None,
) -> None:
    """The notice of what the change gave since `since`, traced to `source`; none when it gave nothing
    (and no `active_until`: the churn warning's earn multiplier is an offer of its own)."""
    added = [e for e in change.entries[since.entries :] if e.points > 0 and e.ref == source]
    points = sum(e.points for e in added if e.wallet is None)
    points += sum(p.points for p in change.profile.pending[since.pending :] if p.ref == source)
    wallets: dict[str, int] = {}
    for e in added:
        if e.wallet is not None:
            wallets[e.wallet] = wallets.get(e.wallet, 0) + e.points
    coupons = [c for c in change.coupons[since.coupons :] if c.source == source]
    if not (points or wallets or coupons or active_until):
        return
    change.notices.append(
        Notice(
            notice_id=f"{kind}.{source}",
            kind=kind,  # type: ignore[arg-type]
            at=change.at,
            points=points,
            coupon_ids=[c.coupon_id for c in coupons],
            wallets=wallets,
            ref=source,
            reason=reason,
            active_until=active_until,
        )
    )
