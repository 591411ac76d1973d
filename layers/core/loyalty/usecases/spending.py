"""Spending: redemptions (rewards and checkout deduction) and coupons used at a till, exactly once."""

from __future__ import annotations

import json
import random
from datetime import datetime
from typing import Any

from .. import clock
from ..errors import CouponUnavailable, IdempotencyConflict, NotFound, ValidationFailed, points_asked_by
from ..member import Coupon, Profile
from ..program import Program
from ..rules import abuse, campaigns, checkout, holds, spending, wallets
from ..rules.posting import Change
from ..schemas import (
    CouponUseBody,
    CouponUseResult,
    OrderItem,
    Redeem,
    RedemptionCancel,
    RedemptionCancelled,
    RedemptionResult,
)
from ..store import CouponRevoke, CouponUse, MemberWrite, Stale, StockReturn, StockTake, Store, coupon_use_id
from . import programs
from .pipeline import Attempt, Built, Outcome, RefKey, missing, once


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
        stock, wallet_spent = None, {}
        if reward is None:
            assert body.deduction is not None
            abuse.refuse_blocked(profile)  # a reward's redemption is refused by spending.check_redeem
            cost, off = spending.deduction(
                program.points.value, body.deduction.order_amount_minor, body.deduction.points
            )
            with points_asked_by("deduction.points"):
                change.debit("redeem", cost, now, source)
            result = {"fulfilment": "deduction", "deduction_minor": off}
        else:
            cost, wallet_spent, left = spending.redeem(change, reward, body.quantity, source, empty_shards)
            if reward.stock is not None:
                shard = random.choice(left)
                stock = StockTake(reward.id, shard, body.quantity, spending.allotments(reward.stock)[shard])
            result = {
                "reward_id": reward.id,
                "quantity": body.quantity,
                "fulfilment": reward.fulfilment,
                "cash_minor": reward.cash_minor * body.quantity,
            }
        applied = campaigns.run(change, campaigns.Event("redemption", now, source))
        response = {
            "redemption_id": body.redemption_id,
            "points_spent": cost,
            "balance": change.balance,
            "coupons": [c.model_dump(mode="json") for c in change.coupons],
            **result,
            **_wallet_result(change, wallet_spent),
        }
        write = MemberWrite(change=change, expected_version=profile.version, stock=stock)
        return Built(write, RedemptionResult.model_validate(response), _undo_facts(change, source, stock, applied))

    def on_stale(stale: Stale, write: MemberWrite) -> None:
        if "stock" in stale.failed and write.stock is not None:
            empty_shards.add(write.stock.shard)

    return once(store, program_id, ref, body, RedemptionResult, build, on_stale=on_stale)


def _wallet_result(change: Change, spent: dict[str, int]) -> dict[str, Any]:
    """A reward priced in a wallet: what it took, and that wallet's balance after."""
    if not spent:
        return {}
    return {"wallet_spent": spent, "wallets": {w: {"balance": change.wallet_balance(w)} for w in spent}}


def _undo_facts(
    change: Change, source: str, stock: StockTake | None, applied: list[campaigns.Applied]
) -> dict[str, Any]:
    """What a cancel gives back and takes back, kept on the redemption's reference: the buckets its
    points (and wallet amounts) came from, the stock shard its units left, what its campaigns gave (the
    points in all, and by campaign for their figures)."""
    given = {a.campaign_id: a.points for a in applied if a.points}
    facts: dict[str, Any] = {"points_paid": change.spent.get(source, {}), "points_given": sum(given.values())}
    facts |= {"campaign_points": given} if given else {}
    if source in change.wallet_spent:
        facts["wallet_paid"] = change.wallet_spent[source]
    wallets_given = wallets.given(applied).get("campaign_wallets")
    if wallets_given:
        facts["wallets_given"] = wallets_given
    return facts | ({"stock_shard": stock.shard} if stock else {})


# The profile, the redemption's reference and its answer, its coupons (None: not read).
CancelState = tuple[Profile, dict[str, Any], RedemptionResult, list[Coupon] | None]


def cancel(
    store: Store, program_id: str, member_id: str, redemption_id: str, now: datetime
) -> Outcome[RedemptionCancelled]:
    """Undoes a redemption none of whose coupons is used or held, exactly once (its own reference,
    `redemption_cancel`): points restored, coupons revoked (on condition they are still unused, so a
    till using one meanwhile makes one of the two fail), stock and the member's count given back.
    1 BatchGetItem (profile + the redemption's reference) + 1 TransactWriteItems; the coupons are
    read only when a revocation found one used, to name it."""
    program = programs.load(store, program_id)
    ref = RefKey("redemption_cancel", redemption_id, member_id)
    read_coupons: list[bool] = []  # a revocation failed: read the coupons, to name the used one
    no_return: set[int] = set()  # stock shards found holding less than the units given back

    def read() -> CancelState:
        profile, found = store.get_member_and_ref(program_id, member_id, "redemption", redemption_id)
        if profile is None:
            raise missing(member_id)
        if found is None or found.get("member_id") != member_id:
            raise NotFound(
                f"redemption {redemption_id!r} not found for this member",
                [{"field": "redemption_id", "message": "unknown redemption"}],
            )
        done = RedemptionResult.model_validate_json(found["response"])
        ids = [c.coupon_id for c in done.coupons]
        return profile, found, done, store.get_coupons(program_id, member_id, ids) if read_coupons else None

    def build(state: CancelState, attempt: Attempt) -> Built[RedemptionCancelled]:
        profile, found, done, coupons = state
        revoked = spending.check_unused([c.coupon_id for c in done.coupons], coupons, profile, now)
        change = Change.start(program, profile, now, attempt.exhausted)
        taken = spending.spent_from(change, found.get("points_paid"), done.points_spent)
        given = int(found.get("points_given", 0))  # unknown for a redemption from before: none taken back
        restored, lapsed, reversed_ = spending.cancel(change, taken, given, done.reward_id, done.quantity, ref.source)
        by_campaign = spending.reversed_by_campaign(found.get("campaign_points") or {}, reversed_)
        shard = _return_shard(program, done, found, no_return)
        units = StockReturn(done.reward_id, shard, done.quantity) if done.reward_id and shard is not None else None
        revoke = CouponRevoke(revoked, clock.iso(now)) if revoked else None
        write = MemberWrite(change, profile.version, revoke=revoke, stock_return=units)
        result = RedemptionCancelled(
            redemption_id=redemption_id,
            status="cancelled",
            points_restored=restored,
            points_lapsed=lapsed,
            points_reversed=reversed_,
            coupons_revoked=revoked,
            **wallets.cancel(change, found, ref.source),  # the wallet amounts it paid, and its campaigns gave
        )
        return Built(write, result, {"campaigns_reversed": by_campaign} if by_campaign else {})  # for the figures

    def on_stale(stale: Stale, write: MemberWrite) -> None:
        if "coupon" in stale.failed:
            read_coupons.append(True)
        if "stock_return" in stale.failed and write.stock_return is not None:
            no_return.add(write.stock_return.shard)

    return once(store, program_id, ref, RedemptionCancel(), RedemptionCancelled, build, read, on_stale)


def _return_shard(program: Program, done: RedemptionResult, found: dict[str, Any], refused: set[int]) -> int | None:
    """The stock shard a cancel gives the units back to: the one recorded at redeem time; for a
    redemption written before that record (no `points_paid` either), any shard of the reward's
    stock that took as many (what counts is the shards' sum). None: no stock to give back."""
    if "points_paid" in found:
        shards = [int(found["stock_shard"])] if "stock_shard" in found else []
    else:
        reward = program.reward(done.reward_id) if done.reward_id else None
        stock = reward.stock if reward is not None else None
        shards = list(range(len(spending.allotments(stock)))) if stock is not None else []
    return next((i for i in shards if i not in refused), None)


def use_coupon(
    store: Store, program_id: str, member_id: str, coupon_id: str, body: CouponUseBody, now: datetime
) -> Outcome[CouponUseResult]:
    """Marks the coupon used exactly once: two tills at once get one success and one 409. The profile
    is read with the coupon (one BatchGetItem) for its holds, and the use commits only while the
    profile is the version read: a checkout holding the coupon meanwhile makes it try again, and
    then refuse it."""
    program = programs.load(store, program_id)

    def no_coupon() -> NotFound:
        return NotFound(f"coupon {coupon_id!r} not found for this member", [{"field": "coupon_id"}])

    if ":" in coupon_id:  # no coupon id has one, and the use's reference id relies on it (coupon_use_id)
        raise no_coupon()

    def read() -> tuple[Profile, Coupon]:
        profile, coupon = store.get_member_coupon(program_id, member_id, coupon_id)
        if profile is None:
            raise missing(member_id)
        if coupon is None:
            raise no_coupon()
        return profile, coupon

    def build(state: tuple[Profile, Coupon], _: Attempt) -> Built[CouponUseResult]:
        profile, coupon = state
        abuse.refuse_blocked(profile)
        lines = matching_lines(program, profile, coupon, body.items, now)
        held = not holds.check_coupon_free(profile, coupon_id, now)
        off = spending.discount(coupon, body.order_amount_minor, now, body.scene, lines, held)
        use = CouponUse(member_id, coupon_id, body.order_id, clock.iso(now), off, at_till=True)
        result = CouponUseResult(coupon_id=coupon_id, discount_minor=off, order_id=body.order_id, kind=coupon.kind)
        write = MemberWrite(change=None, expected_version=None, coupon_uses=[use], profile_check=profile.version)
        return Built(write, result)

    try:
        # The use is the member's: a coupon id is unique only within a member. A use made before this
        # reference form is under the coupon id alone (`former`): its repeat still gets its first answer.
        ref = RefKey("coupon_use", coupon_use_id(member_id, coupon_id), member_id)
        former = RefKey("coupon_use", coupon_id, member_id)
        return once(store, program_id, ref, body, CouponUseResult, build, read, former=former)
    except IdempotencyConflict:
        raise use_refused(store, program_id, (ref, former), body) from None


def use_refused(
    store: Store, program_id: str, refs: tuple[RefKey, ...], body: CouponUseBody
) -> IdempotencyConflict | CouponUnavailable:
    """A coupon's use whose reference holds another payload: the same `order_id` is the client's id
    reused with a different payload (idempotency_conflict), another order the coupon used ("used").
    One GetItem more, only on this refusal: the use's reference is keyed by the coupon, not the order."""
    for ref in refs:
        done = store.get_ref(program_id, ref.kind, ref.ref_id, ref.owner)
        if done is not None and done.get("member_id") == ref.member_id:
            if json.loads(done["response"]).get("order_id") == body.order_id:
                return IdempotencyConflict("order", body.order_id)
            break
    return CouponUnavailable("coupon is used", [{"field": "coupon_id", "status": "used"}])


def matching_lines(
    program: Program, profile: Profile, coupon: Coupon, items: list[OrderItem] | None, now: datetime
) -> list[int] | None:
    """The amounts of an order's lines the coupon applies to (its template's `applies_to`), or None
    when it applies to the whole order; such a coupon on an order without `items` is a 422."""
    lines = [item.model_dump() for item in items or []]
    match = checkout.applies(program, profile, coupon.template_id, lines, now)
    if match is None:
        return None
    if items is None:
        raise ValidationFailed.field("items", "this coupon applies to some lines only: send the order's items")
    return [line["amount_minor"] for line, m in zip(lines, match, strict=True) if m]
