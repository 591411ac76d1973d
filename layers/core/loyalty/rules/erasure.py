"""Erasure: what of a member survives its right to be forgotten (GDPR art. 17, PIPL art. 47).

Kept, under a pseudonym: the figures a brand's accounts and health need (ledger, orders and spend per
month, lifetime totals, tier and its history, campaign uses). Gone: what identifies or describes the
person (the member id, birthday, channel, customer_ref, tags) and what would keep acting on them (the balance,
unused coupons, active cards, scheduled work).
"""

from __future__ import annotations

from datetime import datetime

from ..member import Coupon
from .posting import Change


def erase(change: Change, pseudonym: str) -> int:
    """The change's profile as the pseudonym keeps it; returns the points taken out, as one `adjust`
    entry, so the points liability falls by the erased balance."""
    removed = change.balance
    change.debit("adjust", removed, change.at, "erasure", "erasure")
    p = change.profile
    p.member_id = pseudonym
    p.birthday = p.channel = p.customer_ref = None  # the brand's customer reference names the person too
    p.tags, p.tag_months = [], {}
    p.paid_cards, p.due_days = {}, {}
    p.pending = []  # points the return window still holds: never credited, so no entry takes them out
    p.win_back_until = p.reminded = None
    p.experiments = {}  # counted already: the pseudonym's profile, a new item, would count them again
    return removed


def unused(coupons: list[Coupon], at: datetime) -> list[str]:
    """The coupons an erasure revokes: those still usable, now or later."""
    return sorted(
        c.coupon_id for c in coupons if c.status == "available" and c.revoked_at is None and c.valid_until > at
    )
