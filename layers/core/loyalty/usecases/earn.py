"""Earning: purchases, refunds and behaviour activities, each exactly once per client id."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .. import clock
from ..errors import NotFound, ValidationFailed
from ..member import Profile
from ..rules import earning, tiers
from ..rules.posting import Change
from ..schemas import Activity, Purchase, Refund
from ..store import MemberWrite, RefUpdate, Store
from . import members, programs
from .writes import once

# Clocks of order systems drift; a time further ahead than this is a client bug, not a late clock.
FUTURE_SLACK = timedelta(minutes=5)


def event_time(value: datetime | None, field: str, now: datetime) -> datetime:
    if value is None:
        return now
    if value > now + FUTURE_SLACK:
        raise ValidationFailed.field(field, "must not be in the future")
    return value


def purchase(
    store: Store, program_id: str, member_id: str, body: Purchase, now: datetime
) -> tuple[bool, dict[str, Any]]:
    program = programs.load(store, program_id)
    paid_at = event_time(body.paid_at, "paid_at", now)
    exhausted: set[str] = set()  # upgrade budgets found spent by an earlier attempt

    def build(profile: Profile) -> tuple[MemberWrite, dict[str, Any], dict[str, Any]]:
        change = Change.start(program, profile, now, exhausted)
        day = clock.local_date(paid_at, program.zone)
        factors = earning.multipliers(program, profile, paid_at, day, body.scene)
        factor = earning.combined(program, factors)
        base, earned = earning.purchase_points(program, body.amount_minor, factor)
        bonus = earning.first_order_bonus(program, profile, paid_at)
        ref = f"order:{body.order_id}"
        change.credit("earn", earned, paid_at, ref)
        change.credit("bonus", bonus, paid_at, ref)

        p = change.profile
        month = clock.month_key(day)
        p.spend_by_month[month] = p.spend_by_month.get(month, 0) + body.amount_minor
        p.orders_by_month[month] = p.orders_by_month.get(month, 0) + 1
        p.orders_total += 1
        p.last_purchase_at = max(filter(None, [p.last_purchase_at, paid_at]))
        p.last_activity_at = max(filter(None, [p.last_activity_at, paid_at]))
        p.lifecycle_stage = "active"

        from_tier = p.tier_id
        if program.tiers is not None:
            today = clock.local_date(now, program.zone)
            keep = max(program.tiers.window_months, 12) + 1
            p.spend_by_month = tiers.prune_months(p.spend_by_month, today, keep)
            p.orders_by_month = tiers.prune_months(p.orders_by_month, today, keep)
            for level in tiers.upgrades(program.tiers, p.tier_id, tiers.metric(program.tiers, p, today)):
                change.move_tier(level, "upgrade", f"upgrade:{level.id}:{body.order_id}")

        response = {
            "order_id": body.order_id,
            "points_earned": earned
            + bonus
            + sum(e.points for e in change.entries if e.ref and e.ref.startswith("upgrade:")),
            "breakdown": {
                "base": base,
                "multiplier": str(factor),
                "multipliers": {k: str(v) for k, v in factors.items()},
                "earned": earned,
                "first_order_bonus": bonus,
            },
            "balance": change.balance,
            "tier": p.tier_id,
            "tier_changed": p.tier_id != from_tier,
            "coupons": [c.model_dump(mode="json") for c in change.coupons],
        }
        facts = {
            "order_minor": body.amount_minor,
            "order_points": earned + bonus,
            "order_month": month,
            "refunded_minor": 0,
            "points_reversed": 0,
        }
        return MemberWrite(change=change, expected_version=profile.version), response, facts

    return once(
        store,
        program_id,
        ("order", body.order_id, member_id),
        body,
        lambda: members.existing(store, program_id, member_id),
        build,
        exhausted=exhausted,
    )


def refund(store: Store, program_id: str, member_id: str, body: Refund, now: datetime) -> tuple[bool, dict[str, Any]]:
    """Points come back in proportion to the refunded share (cumulatively over partial refunds), and
    the spend leaves tier qualification. Points already spent are not clawed below zero."""
    program = programs.load(store, program_id)
    refunded_at = event_time(body.refunded_at, "refunded_at", now)

    def read() -> tuple[Profile | None, dict[str, Any] | None]:
        return store.get_member_and_ref(program_id, member_id, "order", body.order_id)

    def build(
        state: tuple[Profile | None, dict[str, Any] | None],
    ) -> tuple[MemberWrite, dict[str, Any], dict[str, Any]]:
        profile, order = state
        if profile is None:
            raise members.missing(member_id)
        if order is None or order["member_id"] != member_id:
            raise NotFound(
                f"order {body.order_id!r} not found for this member",
                [{"field": "order_id", "message": "unknown order"}],
            )
        refunded_after = order["refunded_minor"] + body.amount_minor
        if refunded_after > order["order_minor"]:
            left = order["order_minor"] - order["refunded_minor"]
            raise ValidationFailed.field("amount_minor", f"exceeds what is left to refund on the order ({left})")
        owed = earning.reversal(order["order_points"], order["order_minor"], refunded_after, order["points_reversed"])
        change = Change.start(program, profile, now)
        taken = min(owed, change.balance)
        change.debit("reverse", taken, refunded_at, f"refund:{body.refund_id}")
        p = change.profile
        month = order["order_month"]
        if month in p.spend_by_month:
            p.spend_by_month[month] = max(0, p.spend_by_month[month] - body.amount_minor)
        if refunded_after == order["order_minor"] and p.orders_by_month.get(month):
            p.orders_by_month[month] -= 1
        update = RefUpdate(
            kind="order",
            ref_id=body.order_id,
            set={"refunded_minor": refunded_after, "points_reversed": order["points_reversed"] + owed},
            expect={"refunded_minor": order["refunded_minor"]},
        )
        response = {
            "refund_id": body.refund_id,
            "order_id": body.order_id,
            "points_reversed": taken,
            "balance": change.balance,
            "points_unrecovered": owed - taken,
        }
        return (
            MemberWrite(change=change, expected_version=profile.version, ref_updates=[update]),
            response,
            {"order_id": body.order_id},
        )

    return once(store, program_id, ("refund", body.refund_id, member_id), body, read, build)


def activity(
    store: Store, program_id: str, member_id: str, body: Activity, now: datetime
) -> tuple[bool, dict[str, Any]]:
    program = programs.load(store, program_id)
    at = event_time(body.at, "at", now)

    def build(profile: Profile) -> tuple[MemberWrite, dict[str, Any], dict[str, Any]]:
        day = clock.local_date(at, program.zone).isoformat()
        points = earning.activity_points(program, profile, body.type, clock.local_date(at, program.zone))
        change = Change.start(program, profile, now)
        change.credit("activity", points, at, f"activity:{body.activity_id}")
        p = change.profile
        # Only the latest day's counters are kept: caps are per day, older days cannot matter.
        if p.activity_day is None or day > p.activity_day:
            p.activity_day, p.activity_counts = day, {}
        if p.activity_day == day:
            p.activity_counts[body.type] = p.activity_counts.get(body.type, 0) + 1
        p.last_activity_at = max(filter(None, [p.last_activity_at, at]))
        response = {"activity_id": body.activity_id, "points_earned": points, "balance": change.balance}
        return MemberWrite(change=change, expected_version=profile.version), response, {"type": body.type}

    return once(
        store,
        program_id,
        ("activity", body.activity_id, member_id),
        body,
        lambda: members.existing(store, program_id, member_id),
        build,
    )
