"""Spending: redemptions (rewards and checkout deduction) and coupons used at a till, exactly once."""

from __future__ import annotations

import random
from datetime import datetime

from .. import clock
from ..errors import CouponUnavailable, IdempotencyConflict, NotFound, OutOfStock
from ..member import Coupon, Profile
from ..rules import campaigns, holds, spending
from ..rules.posting import Change
from ..schemas import CouponUseBody, CouponUseResult, Redeem, RedemptionResult
from ..store import CouponUse, MemberWrite, Stale, StockTake, Store, coupon_use_id
from . import programs
from .pipeline import Attempt, Built, Outcome, RefKey, once


def redeem(
    store: Store, program_id: str, member_id: str, body: Redeem, now: datetime, by_member: bool = False
) -> Outcome[RedemptionResult]:
    """Points leave the earliest-expiring buckets first; stock, the member's limit and the spend
    commit together or not at all (409 insufficient_points / out_of_stock / limit_reached).
    `by_member`: the member's own redemption (POST .../me/redemptions), its id in its own id space."""
    program = programs.load(store, program_id)
    reward = program.reward(body.reward_id) if body.reward_id else None
    if body.reward_id and reward is None:
        raise NotFound(f"reward {body.reward_id!r} not found", [{"field": "reward_id", "message": "unknown reward"}])
    if reward is not None:
        spending.check_quantity(reward, body.quantity)  # what one transaction can hold
    ref = RefKey("redemption", body.redemption_id, member_id, by_member)
    source = ref.source
    empty_shards: set[int] = set()  # shards found exhausted by an earlier attempt of this request

    def build(profile: Profile, attempt: Attempt) -> Built[RedemptionResult]:
        change = Change.start(program, profile, now, attempt.exhausted)
        stock = None
        if reward is None:
            assert body.deduction is not None
            cost, off = spending.deduction(
                program.points.value, body.deduction.order_amount_minor, body.deduction.points
            )
            change.debit("redeem", cost, now, source)
            result = {"fulfilment": "deduction", "deduction_minor": off}
        else:
            cost = spending.redeem(change, reward, body.quantity, source)
            if reward.stock is not None:
                shards = [i for i, n in enumerate(spending.allotments(reward.stock)) if n >= body.quantity]
                left = [i for i in shards if i not in empty_shards]
                if not left:
                    raise OutOfStock(f"reward {reward.id!r} is out of stock", [{"field": "reward_id"}])
                shard = random.choice(left)
                stock = StockTake(reward.id, shard, body.quantity, spending.allotments(reward.stock)[shard])
            result = {
                "reward_id": reward.id,
                "quantity": body.quantity,
                "fulfilment": reward.fulfilment,
                "cash_minor": reward.cash_minor * body.quantity,
            }
        campaigns.run(change, campaigns.Event("redemption", now, source))
        response = {
            "redemption_id": body.redemption_id,
            "points_spent": cost,
            "balance": change.balance,
            "coupons": [c.model_dump(mode="json") for c in change.coupons],
            **result,
        }
        write = MemberWrite(change=change, expected_version=profile.version, stock=stock)
        return Built(write, RedemptionResult.model_validate(response))

    def on_stale(stale: Stale, write: MemberWrite) -> None:
        if "stock" in stale.failed and write.stock is not None:
            empty_shards.add(write.stock.shard)

    return once(store, program_id, ref, body, RedemptionResult, build, on_stale=on_stale)


def use_coupon(
    store: Store, program_id: str, member_id: str, coupon_id: str, body: CouponUseBody, now: datetime
) -> Outcome[CouponUseResult]:
    """Marks the coupon used exactly once: two tills at once get one success and one 409."""
    programs.load(store, program_id)

    def missing() -> NotFound:
        return NotFound(f"coupon {coupon_id!r} not found for this member", [{"field": "coupon_id"}])

    if ":" in coupon_id:  # no coupon id has one, and the use's reference id relies on it (coupon_use_id)
        raise missing()

    # The use is the member's: a coupon id is unique only within a member. A use made before this
    # reference form is under the coupon id alone (`former`): its repeat still gets its first answer.
    ref = RefKey("coupon_use", coupon_use_id(member_id, coupon_id), member_id)
    former = RefKey("coupon_use", coupon_id, member_id)

    def read() -> tuple[Coupon, Profile | None]:
        # the profile too, in the same round trip: its holds say whether an open checkout has the coupon
        profile, _, found = store.get_member_ref_and_coupons(program_id, member_id, ref.kind, ref.ref_id, [coupon_id])
        if not found:
            raise missing()
        return found[0], profile

    def build(state: tuple[Coupon, Profile | None], _: Attempt) -> Built[CouponUseResult]:
        coupon, profile = state
        if profile is not None and not holds.check_coupon_free(profile, coupon_id, now):
            raise CouponUnavailable("coupon is held by an open checkout", [{"field": "coupon_id", "status": "held"}])
        off = spending.discount(coupon, body.order_amount_minor, now, body.scene)
        use = CouponUse(
            member_id=member_id, coupon_id=coupon_id, order_id=body.order_id, at=clock.iso(now), discount_minor=off
        )
        result = CouponUseResult(coupon_id=coupon_id, discount_minor=off, order_id=body.order_id, kind=coupon.kind)
        # the profile's version guards the hold read: a checkout holding it meanwhile makes this a retry
        check = profile.version if profile is not None else None
        return Built(MemberWrite(change=None, expected_version=None, coupon_uses=[use], profile_check=check), result)

    try:
        return once(store, program_id, ref, body, CouponUseResult, build, read, former=former)
    except IdempotencyConflict:
        # The coupon was used on another order: for a till that is "used", not a payload mix-up.
        raise CouponUnavailable("coupon is used", [{"field": "coupon_id", "status": "used"}]) from None
