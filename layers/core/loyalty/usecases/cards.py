"""Paid cards: a confirmed payment buys or extends a card, and a refund takes one back, exactly once."""

from __future__ import annotations

from datetime import datetime

from .. import clock
from ..errors import LoyaltyError, NotFound, ValidationFailed
from ..member import Coupon, Profile
from ..program import PaidCardPlan, Program
from ..rules import abuse, campaigns, cards
from ..rules.posting import Change
from ..schemas import CardPurchase, CardPurchaseResult, CardRefund, CardRefundResult
from ..store import CouponRevoke, MemberWrite, Store
from . import members, programs
from .pipeline import Attempt, Built, Outcome, RefKey, existing, once


def _plan(program: Program, plan_id: str, field: str) -> PaidCardPlan:
    plan = program.card_plan(plan_id)
    if plan is None:
        raise NotFound(f"card plan {plan_id!r} not found", [{"field": field, "message": "unknown card plan"}])
    return plan


def purchase(
    store: Store, program_id: str, member_id: str, body: CardPurchase, now: datetime
) -> Outcome[CardPurchaseResult]:
    """The payment back-end confirms a payment: the plan's price, once per payment_id."""
    program = programs.load(store, program_id)
    plan = _plan(program, body.plan_id, "plan_id")
    if body.amount_paid_minor != plan.price_minor:
        raise ValidationFailed.field("amount_paid_minor", f"must be the plan's price, {plan.price_minor}")
    paid_at = clock.event_time(body.paid_at, "paid_at", now)

    def build(profile: Profile, attempt: Attempt) -> Built[CardPurchaseResult]:
        abuse.refuse_blocked(profile)
        change = Change.start(program, profile, now, attempt.exhausted)
        card, extended = cards.buy(change, plan, body.payment_id, body.amount_paid_minor, paid_at)
        campaigns.run(change, campaigns.Event("card_purchase", paid_at, f"payment:{body.payment_id}"))
        result = {
            "card": members.card_view(plan, card),
            "coupons": [c.model_dump(mode="json") for c in change.coupons],
            "payment_id": body.payment_id,
            "extended": extended,
            "points_granted": sum(e.points for e in change.entries if e.points > 0 and e.type == "bonus"),
            "balance": change.balance,
        }
        facts = {"plan_id": plan.id, "amount_minor": body.amount_paid_minor}
        write = MemberWrite(change=change, expected_version=profile.version)
        return Built(write, CardPurchaseResult.model_validate(result), facts)

    ref = RefKey("payment", body.payment_id, member_id)
    return once(store, program_id, ref, body, CardPurchaseResult, build)


def refund(
    store: Store, program_id: str, member_id: str, plan_id: str, body: CardRefund, now: datetime
) -> Outcome[CardRefundResult]:
    """Within the plan's refund window: the payment back net of the face value of what was used, its
    unused coupons revoked and its points taken back, in one transaction with the card's new end."""
    program = programs.load(store, program_id)
    plan = _plan(program, plan_id, "plan_id")
    at = clock.event_time(body.refunded_at, "refunded_at", now)

    def read() -> tuple[Profile, list[Coupon]]:
        profile = existing(store, program_id, member_id)
        try:
            _, payment = cards.refundable(profile, plan_id, body.payment_id)
        except LoyaltyError:
            return profile, []  # build says why; a retry of a refund that went through replays it
        ids = payment.coupon_ids
        return profile, store.get_coupons(program_id, member_id, ids) if ids else []

    def build(state: tuple[Profile, list[Coupon]], attempt: Attempt) -> Built[CardRefundResult]:
        profile, coupons = state
        change = Change.start(program, profile, now, attempt.exhausted)
        outcome = cards.refund(change, plan, body.payment_id, coupons, at)
        card = change.profile.paid_cards.get(plan_id)
        result = {
            "refund_id": body.refund_id,
            "payment_id": outcome.payment.payment_id,
            "plan_id": plan_id,
            "refund_minor": outcome.refund_minor,
            "used_minor": outcome.used_minor,
            "points_reversed": outcome.points_reversed,
            "coupons_revoked": outcome.revoke,
            "card": members.card_view(plan, card) if card else None,
            "balance": change.balance,
        }
        write = MemberWrite(
            change=change,
            expected_version=profile.version,
            revoke=CouponRevoke(outcome.revoke, clock.iso(at)) if outcome.revoke else None,
        )
        facts = {"payment_id": outcome.payment.payment_id, "refund_minor": outcome.refund_minor}
        return Built(write, CardRefundResult.model_validate(result), facts)

    ref = RefKey("card_refund", body.refund_id, member_id)
    return once(store, program_id, ref, body, CardRefundResult, build, read)
