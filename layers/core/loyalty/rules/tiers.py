"""Growth tiers: the qualifying metric over a rolling window, upgrades, and progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .. import clock
from ..member import Coupon, Profile
from ..program import Level, Program, Tiers
from .posting import Change, coupon_id


def metric(tiers: Tiers, profile: Profile, today: date) -> int:
    """Spend (minor units), orders or growth value (rules/growth.py) over the `window_months` months
    ending with today's month."""
    per_month = {
        "spend": profile.spend_by_month,
        "orders": profile.orders_by_month,
        "growth": profile.growth_by_month,
    }[tiers.metric]
    return sum(per_month.get(month, 0) for month in clock.months_back(today, tiers.window_months))


def level_for(tiers: Tiers, value: int) -> Level:
    """The highest level whose threshold the value reaches (thresholds increase; the first is 0)."""
    reached = [lvl for lvl in tiers.levels if lvl.threshold <= value]
    return reached[-1] if reached else tiers.levels[0]


def index_of(tiers: Tiers, level_id: str | None) -> int:
    ids = [lvl.id for lvl in tiers.levels]
    return ids.index(level_id) if level_id in ids else 0


def upgrades(tiers: Tiers, current_id: str | None, value: int) -> list[Level]:
    """Levels newly reached above the current one, lowest first; empty when nothing changes.

    Only upward: a downgrade happens at review time, or when a refund undoes the order's own upgrade.
    """
    target = tiers.levels.index(level_for(tiers, value))
    return tiers.levels[index_of(tiers, current_id) + 1 : target + 1]


def progress(tiers: Tiers, current_id: str | None, value: int) -> dict[str, object]:
    nxt = tiers.levels[index_of(tiers, current_id) + 1 :]
    next_level = nxt[0] if nxt else None
    return {
        "metric": tiers.metric,
        "value": value,
        "next_tier": next_level.id if next_level else None,
        "needed": max(0, next_level.threshold - value) if next_level else 0,
    }


def prune_months(per_month: dict[str, int], today: date, keep: int) -> dict[str, int]:
    """Drop months no window can reach any more, so the profile item stays small."""
    recent = set(clock.months_back(today, keep))
    return {m: v for m, v in per_month.items() if m in recent and v}


def next_review(program: Program, profile: Profile) -> date | None:
    """`every_months` after the last review (or after the member reached its tier, the first time)."""
    if program.tiers is None:
        return None
    last = profile.last_review or clock.local_date(profile.tier_since or profile.enrolled_at, program.zone).isoformat()
    return clock.add_months(date.fromisoformat(last), program.tiers.review.every_months)


def upgrade(change: Change, source: Callable[[Level], str]) -> list[Level]:
    """The one upgrade path (a purchase, a tier review, `POST .../tier-evaluations`): every level the metric
    reaches above the current tier, in order, each with its gift traced to `source(level)`."""
    if change.program.tiers is None:
        return []
    tiers, p = change.program.tiers, change.profile
    reached = upgrades(tiers, p.tier_id, metric(tiers, p, change.today))
    for level in reached:
        change.move_tier(level, "upgrade", source(level))
    return reached


def review(change: Change) -> None:
    """Upgrade at once whenever the metric allows; at a due review, a member under its tier's threshold
    `grace_reviews + 1` reviews in a row drops one level (never two at once)."""
    program, p = change.program, change.profile
    if program.tiers is None:
        return
    upgrade(change, lambda level: f"upgrade:{level.id}:review:{change.today}")
    value = metric(program.tiers, p, change.today)
    due_day = next_review(program, p)
    if due_day is None or change.today < due_day:
        return
    p.last_review = change.today.isoformat()
    index = index_of(program.tiers, p.tier_id)
    if value >= program.tiers.levels[index].threshold:
        p.below_reviews = 0
        return
    p.below_reviews += 1
    if p.below_reviews > program.tiers.review.grace_reviews and index > 0:
        change.move_tier(program.tiers.levels[index - 1], "review", f"review:{change.today}")
        p.below_reviews = 0


# ---- refunds that undo an upgrade ---------------------------------------------------------------


def upgrade_source(level_id: str, order_id: str) -> str:
    """What an order's upgrade gift is traced to (its coupons' `source`, its points' ledger `ref`)."""
    return f"upgrade:{level_id}:{order_id}"


def upgrade_coupon_ids(program: Program, member_id: str, order_id: str) -> list[str]:
    """The ids the upgrade gifts of an order would have (ids derive from the member and the source), so
    the refund reads them in the same round trip as the profile and the order, before it knows the upgrade."""
    if program.tiers is None:
        return []
    return [
        coupon_id(member_id, upgrade_source(level.id, order_id), template_id, i)
        for level in program.tiers.levels
        if level.on_upgrade is not None
        for i, template_id in enumerate(level.on_upgrade.coupons)
    ]


def order_upgrade(change: Change, from_tier: str | None, reached: list[Level], order_id: str) -> dict[str, Any]:
    """What an order's upgrade gave, kept on the order's reference so that a refund can undo it:
    the tier before, when the member reached the top one (its `tier_since`), each level's gift."""
    levels = []
    for level in reached:
        source = upgrade_source(level.id, order_id)
        points = sum(e.points for e in change.entries if e.ref == source)
        coupons = [c.coupon_id for c in change.coupons if c.source == source]
        levels.append({"tier": level.id, "points": points, "coupons": coupons})
    return {"from": from_tier, "at": change.at.isoformat(), "levels": levels}


@dataclass
class Undone:
    """What a refund took back of its order's upgrade."""

    record: dict[str, Any]  # the order's upgrade record after the refund (only the levels still held)
    points_reversed: int = 0
    points_unrecovered: int = 0  # gift points already spent
    revoke: list[str] = field(default_factory=list)  # unused gift coupons, taken back
    unrecovered: list[str] = field(default_factory=list)  # gift coupons already used: they stay


def undo_upgrade(
    change: Change, record: dict[str, Any] | None, coupons: dict[str, Coupon], value_before: int, ref: str, at: datetime
) -> Undone | None:
    """After a refund has taken its spend out of `change.profile`: when the member still holds the
    tier that the refunded order gave and the metric fell under that tier's threshold, back to the
    tier it would hold without the order's refunded share (the one before the order, or a lower level
    the order also reached that the metric still meets), at once and possibly several levels (grace
    is for reviews), with the gifts of the levels undone. None when the refund changes no tier: the
    order gave no upgrade, or the tier is no longer the order's (a later upgrade, a review), or the
    metric still meets its threshold."""
    program, p = change.program, change.profile
    tiers = program.tiers
    if tiers is None or not record or not record.get("levels"):
        return None
    held = [lvl["tier"] for lvl in record["levels"]]
    if p.tier_id not in held or p.tier_since != datetime.fromisoformat(record["at"]):
        return None
    value = metric(tiers, p, change.today)
    current = index_of(tiers, p.tier_id)
    target = max(index_of(tiers, record["from"]), tiers.levels.index(level_for(tiers, value)))
    if value >= value_before or target >= current:
        return None
    change.move_tier(tiers.levels[target], "refund", ref)
    kept = [lvl for lvl in record["levels"] if index_of(tiers, lvl["tier"]) <= target]
    undone = Undone(record={**record, "at": change.at.isoformat(), "levels": kept})
    for lvl in record["levels"]:
        if lvl in kept:
            continue
        taken = min(lvl["points"], change.balance)
        change.debit("reverse", taken, at, f"{ref}:upgrade:{lvl['tier']}", f"upgrade to {lvl['tier']} undone")
        undone.points_reversed += taken
        undone.points_unrecovered += lvl["points"] - taken
        for gift_id in lvl["coupons"]:
            coupon = coupons.get(gift_id)
            if coupon is not None and coupon.status == "used":
                undone.unrecovered.append(gift_id)
            elif coupon is not None and coupon.status == "available" and coupon.valid_until > at:
                undone.revoke.append(gift_id)
    return undone
