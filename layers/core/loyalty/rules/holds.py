"""Holds: what a member's open checkouts keep of its points and coupons (API.md "Holds").

A hold lives on the profile (`Profile.holds`, checkout id -> Hold), so every write that spends points
or takes a coupon already reads it, and the profile's version guards it: two checkouts racing for the
same points cannot both commit. A hold past its `expires_at` holds nothing from that instant on, with
no sweep: every reader asks `open_holds` at its own time, and the next write drops it (`prune`).
"""

from __future__ import annotations

from datetime import datetime

from ..errors import InsufficientPoints, LimitReached
from ..member import Hold, Profile

# Open checkouts a member may have at once: each is an entry on the profile, so this bounds its size
# (a client opening a checkout per page view would otherwise grow it without end).
MAX_OPEN = 20


def open_holds(profile: Profile, at: datetime, but: str | None = None) -> dict[str, Hold]:
    """The holds still open at `at`, but the checkout `but` (the one being priced or confirmed)."""
    return {cid: h for cid, h in profile.holds.items() if h.expires_at > at and cid != but}


def held_points(profile: Profile, at: datetime, but: str | None = None) -> int:
    return sum(h.points for h in open_holds(profile, at, but).values())


def held_coupons(profile: Profile, at: datetime, but: str | None = None) -> frozenset[str]:
    return frozenset(c for h in open_holds(profile, at, but).values() for c in h.coupon_ids)


def prune(profile: Profile, at: datetime) -> None:
    """Drop the holds past their time: a write never carries a hold that holds nothing."""
    profile.holds = open_holds(profile, at)


def check_spendable(profile: Profile, points: int, at: datetime) -> None:
    """Points spent outside a checkout (a redemption, a deduction) come from what no open checkout holds."""
    free = profile.balance - held_points(profile, at)
    if points > free:
        raise InsufficientPoints(points, max(0, free))


def check_coupon_free(profile: Profile, coupon_id: str, at: datetime) -> bool:
    """True when no open checkout holds the coupon."""
    return coupon_id not in held_coupons(profile, at)


def check_room(profile: Profile, checkout_id: str, at: datetime) -> None:
    """A new checkout only while the member has fewer than MAX_OPEN open ones (re-pricing one is no new one)."""
    others = open_holds(profile, at, checkout_id)
    if len(others) >= MAX_OPEN:
        raise LimitReached(
            f"the member has {len(others)} open checkouts: confirm or cancel one first",
            [{"field": "checkout_id", "message": f"at most {MAX_OPEN} open checkouts", "limit": MAX_OPEN}],
        )
