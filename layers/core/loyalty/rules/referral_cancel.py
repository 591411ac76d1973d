"""What a cancelled referral takes back (a refund of the converting order inside its return window),
each side in its own write: the referee's in the refund's, the referrer's in its cancel write from the
stream (usecases/referral.cancel_referrer).

Each side's rewarding write keeps on its reference what it gave that pending points cannot say
(`given`): the coupons (the reward's, and the referrer's `referral_converted` campaigns'), wallet
amounts, the take of a budget-like count (the fingerprint's, the referee's; the program's `budget`, the
referrer's) and the period `per_referrer` counted it in (referrer).
The cancellation then (`take_back`): drops the points still pending under the referral's ref (the
reward's, and the campaigns', held alike), revokes the coupons still unused (a used one stays used:
`unrecovered`), takes wallet amounts back (what is spent already is owed, as a refund's), and gives
back the counts: the fingerprint's take once (the referee's write moves `referred.status` from
converted to cancelled, which only one write can do) and the referrer's budget take, period count
and referrals (its cancel write is once per referee).
Tags the campaigns gave stay (README: a tag says what happened, not what is owed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..member import Coupon
from . import referral, wallets
from .posting import Change

REASON = "referral cancelled"


@dataclass
class Taken:
    points: int = 0  # pending points cancelled
    revoke: list[str] = field(default_factory=list)  # unused coupons revoked
    unrecovered: list[str] = field(default_factory=list)  # coupons used already: they stay used
    wallets: dict[str, int] = field(default_factory=dict)  # wallet amounts taken back
    wallets_unrecovered: dict[str, int] = field(default_factory=dict)  # spent already: owed
    campaigns: dict[str, int] = field(default_factory=dict)  # the campaigns' held points cancelled, by campaign
    returns: dict[str, int] = field(default_factory=dict)  # budget keys given back (the fingerprint's take)


def given(
    change: Change, traced_to: str, referrer: bool = False, campaign_points: dict[str, int] | None = None
) -> dict[str, Any]:
    """What a referral's write gave besides pending points, for its reference (see above); the
    referrer's (`referrer`) also the period its count went into, its take of the program's budget and
    its `referral_converted` campaigns' points by campaign (their figures net of the cancellation)."""
    kept: dict[str, Any] = {"referral_campaign_points": campaign_points} if campaign_points else {}
    coupons = [c.coupon_id for c in change.coupons if c.source == traced_to or c.source.endswith(f":{traced_to}")]
    if coupons:
        kept["referral_coupons"] = coupons
    amounts: dict[str, int] = {}
    for e in change.entries:
        if e.wallet and e.ref == traced_to and e.points > 0:
            amounts[e.wallet] = amounts.get(e.wallet, 0) + e.points
    if amounts:
        kept["referral_wallets"] = amounts
    fingerprint = change.profile.fingerprint
    site = referral.BUDGET_SITE if referrer else fingerprint and referral.fingerprint_site(fingerprint)
    taken = [key for key in change.budget_takes if site and key.startswith(f"{site}:")]
    if taken:
        kept["referral_budget"] = taken[0]
    if referrer:  # reward_referrer keeps only the current period's count
        for period in change.profile.referral_periods:
            kept["referral_period"] = period
    return kept


def order_facts(change: Change, converted: bool) -> dict[str, Any]:
    """What the converting order's reference keeps: that it converted, and what the referral gave."""
    return {"referral_converted": True, **given(change, referral.source(change.profile.member_id))} if converted else {}


def coupon_ids(kept: dict[str, Any] | None) -> list[str]:
    """The coupons a reference says its referral gave (to read before a cancellation)."""
    return list((kept or {}).get("referral_coupons") or [])


def take_back(change: Change, kept: dict[str, Any], coupons: dict[str, Coupon], traced_to: str) -> Taken:
    """One side's take-back, from what its reference kept (`given`) and those coupons as read."""
    held = sum(p.points for p in change.profile.pending if p.ref == traced_to)
    change.profile.pending = [p for p in change.profile.pending if p.ref != traced_to]
    ids = coupon_ids(kept)
    revoke = [cid for cid in ids if (c := coupons.get(cid)) and c.status == "available" and c.revoked_at is None]
    used = [cid for cid in ids if (c := coupons.get(cid)) and c.status == "used"]
    owed = {str(w): int(n) for w, n in (kept.get("referral_wallets") or {}).items()}
    taken, unrecovered = wallets.take_back(change, owed, traced_to, REASON)
    return Taken(held, revoke, used, taken, unrecovered)


def refunded(change: Change, order: dict[str, Any], at: datetime, coupons: dict[str, Coupon]) -> Taken | None:
    """The referee's side, in a refund's write: None when the refund does not cancel its referral."""
    if not referral.refunded(change, order, at):
        return None
    taken = take_back(change, order, coupons, referral.source(change.profile.member_id))
    if order.get("referral_budget"):  # the fingerprint's take
        taken.returns = {str(order["referral_budget"]): 1}
    return taken


def cancel_referrer(
    change: Change, referee_id: str, reward: dict[str, Any] | None, coupons: dict[str, Coupon]
) -> Taken:
    """The referrer's side, from its reward's reference (`reward`; None: never rewarded). Only a
    rewarded referral gives back the referrer's counts: a refused one took none."""
    taken = take_back(change, reward or {}, coupons, referral.source(referee_id))
    if reward is None or reward.get("referral_outcome") != "rewarded":
        return taken
    if taken.points:  # held with the reward: cancelled with it
        taken.campaigns = {str(c): int(n) for c, n in (reward.get("referral_campaign_points") or {}).items()}
    profile = change.profile
    profile.referrals = max(0, profile.referrals - 1)
    if reward.get("referral_budget"):  # the program's budget of referrer rewards
        taken.returns = {str(reward["referral_budget"]): 1}
    period = reward.get("referral_period")
    if period in profile.referral_periods:  # still the current period: the count is given back
        profile.referral_periods[period] = max(0, profile.referral_periods[period] - 1)
    return taken
