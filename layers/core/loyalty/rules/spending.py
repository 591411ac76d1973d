"""Spending points and using coupons: costs, limits, stock shards, checkout deduction, discounts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from ..errors import CouponUnavailable, LimitReached, OutOfStock, ValidationFailed, points_asked_by
from ..member import Coupon, Profile
from ..program import MAX_REDEEMED_COUPONS, PointValue, Reward
from . import abuse, buckets, distribute, holds, wallets
from .posting import Change

STOCK_SHARDS = 8  # stock items per reward: parallel redemptions spread over them (README, "Contention")


def max_quantity(reward: Reward) -> int:
    """The most units of a reward one redemption can hold (the schema's 100 for a reward of no coupons);
    a reward with a budget takes one item of the room for its budget counter."""
    per_unit = len(reward.grant.coupons)
    return min(100, coupon_room(reward) // per_unit) if per_unit else 100


def coupon_room(reward: Reward) -> int:
    return MAX_REDEEMED_COUPONS - (1 if reward.grant.budget is not None else 0)


def check_quantity(reward: Reward, quantity: int) -> None:
    most = max_quantity(reward)
    if quantity > most:
        per_unit = len(reward.grant.coupons)
        message = (
            f"at most {most} of reward {reward.id!r} in one redemption: each unit issues {per_unit} coupon(s), "
            f"and one redemption issues at most {coupon_room(reward)}"
        )
        raise ValidationFailed(
            f"quantity: {message}",
            [{"field": "quantity", "message": message, "max": most, "coupons_per_unit": per_unit}],
        )


def check_limit(reward: Reward, profile: Profile, quantity: int) -> None:
    if reward.per_member_limit is None:
        return
    used = profile.redeemed.get(reward.id, 0)
    if used + quantity > reward.per_member_limit:
        raise LimitReached(
            f"reward {reward.id!r} is limited to {reward.per_member_limit} per member ({used} redeemed)",
            [{"field": "quantity", "limit": reward.per_member_limit, "redeemed": used}],
        )


def budget_site(reward: Reward) -> str:
    return f"reward:{reward.id}"


def check_redeem(change: Change, reward: Reward, quantity: int, full: Collection[int] = ()) -> list[int]:
    """Whether `quantity` units of the reward can be redeemed now: raises what a redemption answers, in
    the order it finds it (member_blocked; limit_reached, the member's limit; insufficient_points, in
    points or a wallet, counting what open checkouts hold; limit_reached, a spent grant budget;
    out_of_stock), else returns the stock shards that may take them (empty: no stock kept). The one
    check a redemption and the member's program view (rules/member_program) both make: it takes the
    grant budget on the change, as the redemption's write then does. `full`: stock shards known to
    hold fewer than `quantity` (a failed write told the redemption; the program view read them)."""
    abuse.refuse_blocked(change.profile)
    check_limit(reward, change.profile, quantity)
    with points_asked_by("reward_id"):
        holds.check_spendable(change.profile, (reward.cost_points or 0) * quantity, change.at)
    if reward.cost is not None:
        wallets.check_funds(change, reward, quantity)
    # Points paid for a grant: a spent budget refuses the redemption rather than skip the grant, as
    # other grant sites do.
    if not change.take_budget(reward.grant.budget, budget_site(reward), quantity):
        raise LimitReached(
            f"reward {reward.id!r} has reached its monthly budget",
            [{"field": "reward_id", "message": "monthly budget spent", "budget": reward.grant.budget}],
        )
    if reward.stock is None:
        return []
    shards = [i for i, n in enumerate(allotments(reward.stock)) if n >= quantity and i not in full]
    if not shards:
        raise OutOfStock(f"reward {reward.id!r} is out of stock", [{"field": "reward_id"}])
    return shards


def redeem(
    change: Change, reward: Reward, quantity: int, ref: str, full: Collection[int] = ()
) -> tuple[int, dict[str, int], list[int]]:
    """`quantity` units of a reward, once `check_redeem` allows them: its price spent (points, or a
    wallet's amount), its coupons given, the member's count kept for `per_member_limit`. Returns
    (points spent, {wallet: amount spent}, the stock shards that may take the units)."""
    shards = check_redeem(change, reward, quantity, full)
    cost = (reward.cost_points or 0) * quantity
    change.debit("redeem", cost, change.at, ref)
    spent = wallets.spend(change, reward, quantity, ref) if reward.cost is not None else {}
    change.give_coupons(reward.grant.coupons * quantity, change.at, ref)
    change.profile.redeemed[reward.id] = change.profile.redeemed.get(reward.id, 0) + quantity
    return cost, spent, shards


def stock_left(reward: Reward, taken: dict[int, int]) -> int | None:
    """What a reward's stock has left, from what each shard has given (None: no stock kept)."""
    if reward.stock is None:
        return None
    return sum(max(0, n - taken.get(i, 0)) for i, n in enumerate(allotments(reward.stock)))


def full_shards(reward: Reward, taken: dict[int, int], quantity: int = 1) -> set[int]:
    """The stock shards that cannot give `quantity` more (what a redemption's write would be refused on)."""
    if reward.stock is None:
        return set()
    return {i for i, n in enumerate(allotments(reward.stock)) if taken.get(i, 0) + quantity > n}


def spent_from(change: Change, recorded: dict[str, int] | None, points_spent: int) -> dict[str, int]:
    """The buckets a redemption's points came from (`recorded` from `Change.spent` at redeem time); a
    redemption written before they were recorded gives its points back as a fresh bucket with the
    program's expiry, as if earned today."""
    if recorded is not None:
        return recorded
    return {buckets.expires_on(change.today, change.program.points.expiry): points_spent} if points_spent else {}


def check_unused(coupon_ids: list[str], coupons: list[Coupon] | None, profile: Profile, at: datetime) -> list[str]:
    """The coupons a cancelled redemption revokes: all of them, or 409 coupon_unavailable naming the
    first one used, or held by an open checkout (a cancel undoes only what nothing has used).
    `coupons`: as read, or None when not read (the revocation's condition checks they are unused);
    one no longer there has nothing to revoke."""
    found = {c.coupon_id: c for c in coupons} if coupons is not None else None
    for cid in coupon_ids:
        coupon = found.get(cid) if found is not None else None
        status = "used" if coupon is not None and coupon.status == "used" else None
        status = status or (None if holds.check_coupon_free(profile, cid, at) else "held")
        if status:
            raise CouponUnavailable(
                f"coupon {cid!r} of the redemption is {status}: it cannot be cancelled",
                [{"field": "coupon_id", "coupon_id": cid, "status": status}],
            )
    return [cid for cid in coupon_ids if found is None or cid in found]


def cancel(
    change: Change, taken: dict[str, int], given: int, reward_id: str | None, quantity: int, ref: str
) -> tuple[int, int, int]:
    """A redemption undone: its points back into the buckets they came from (a lapsed one gives
    nothing), the points its campaigns `given` taken back (else redeem and cancel would farm them;
    never below 0, as a refund's reversal) and its units off the member's count for
    `per_member_limit`. A grant budget it took is left as it is: a budget counts what was given.
    Returns (restored, lapsed, reversed)."""
    restored, lapsed = change.restore(taken, change.at, ref, "redemption cancelled")
    reversed_ = min(given, change.balance)
    change.debit("reverse", reversed_, change.at, ref, "redemption cancelled")
    redeemed = change.profile.redeemed
    if reward_id is not None and reward_id in redeemed:
        left = redeemed.pop(reward_id) - quantity
        if left > 0:
            redeemed[reward_id] = left
    return restored, lapsed, reversed_


def reversed_by_campaign(given: dict[str, int], reversed_: int) -> dict[str, int]:
    """What a cancel took back of each of its redemption campaigns' points (for their figures): all of
    it, or, when the balance could not pay it all, each campaign's share (rules/distribute). A
    redemption from before they were recorded by campaign: none known."""
    ids = sorted(given)
    shares = distribute.proportional(reversed_, [int(given[cid]) for cid in ids])
    return {cid: n for cid, n in zip(ids, shares, strict=True) if n}


def allotments(stock: int) -> list[int]:
    """How a reward's stock is split over its shards; empty shards are left out of the draw."""
    shards = min(STOCK_SHARDS, max(stock, 1))
    return [stock // shards + (1 if i < stock % shards else 0) for i in range(shards)]


def deduction(value: PointValue, order_amount_minor: int, points: int) -> tuple[int, int]:
    """(points used, money off) when paying part of an order with points at the stable value.

    The money off is capped by the program's share of the order, and only the points that buy the
    money off are charged (never a point for a fraction of a cent)."""
    cap = order_amount_minor * value.max_order_share_percent // 100
    off = min(points * value.worth_minor // value.points, cap)
    used = -(-off * value.points // value.worth_minor)  # ceiling: the points that buy `off`
    return used, off


def shown_status(coupon: Coupon, now: datetime) -> str:
    """A coupon's status as members and operators read it, one of the contract's three: the stored one
    (available, used), or `expired` for an available one past valid_until (a revoked one included). One
    not valid yet stays `available`: its `valid_from` (and `usable_now`) say when the till takes it."""
    if coupon.status != "available":
        return coupon.status
    return "expired" if coupon.valid_until < now else "available"


def usable_now(coupon: Coupon, now: datetime) -> bool:
    """Whether the till would take it now, as far as time and status go (`discount` refuses the rest)."""
    return shown_status(coupon, now) == "available" and coupon.valid_from <= now


def discount(
    coupon: Coupon,
    order_amount_minor: int,
    now: datetime,
    scene: str | None = None,
    lines: list[int] | None = None,
    held: bool = False,
) -> int:
    """The money a coupon takes off an order; CouponUnavailable says why it cannot be used. `lines`:
    the amounts of the order's lines the coupon applies to (its template's `applies_to`; None: the
    whole order), which its minimum spend and its discount then count alone; `held`: an open checkout
    holds the coupon (rules/holds.py)."""
    if coupon.status != "available":
        raise CouponUnavailable(f"coupon is {coupon.status}", [{"field": "coupon_id", "status": coupon.status}])
    if held:
        raise CouponUnavailable("coupon is held by an open checkout", [{"field": "coupon_id", "status": "held"}])
    if coupon.scene is not None and scene != coupon.scene:
        raise CouponUnavailable(
            f"coupon is for {coupon.scene!r} orders only", [{"field": "scene", "required": coupon.scene}]
        )
    if now < coupon.valid_from:
        raise CouponUnavailable(
            "coupon is not valid yet", [{"field": "coupon_id", "valid_from": coupon.valid_from.isoformat()}]
        )
    if shown_status(coupon, now) == "expired":  # the validity window, read as the wallet reads it
        raise CouponUnavailable("coupon has expired", [{"field": "coupon_id", "status": "expired"}])
    if lines is not None and not lines:
        raise CouponUnavailable(
            "no line of the order is one the coupon applies to",
            [{"field": "items", "message": "no line the coupon applies to"}],
        )
    amount, field = (order_amount_minor, "order_amount_minor") if lines is None else (sum(lines), "items")
    if amount < coupon.min_spend_minor:
        what = "order is" if lines is None else "lines the coupon applies to are"
        raise CouponUnavailable(
            f"{what} below the coupon's minimum spend of {coupon.min_spend_minor}",
            [{"field": field, "min_spend_minor": coupon.min_spend_minor}],
        )
    if coupon.kind == "amount_off":
        return min(coupon.value_minor, amount)
    if coupon.kind == "percent_off":
        off = amount * (coupon.percent_off or 0) // 100
        return min(off, coupon.max_off_minor) if coupon.max_off_minor is not None else off
    return 0  # free_shipping and gift: the till applies the benefit; no money off the order
