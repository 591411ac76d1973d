"""How many points a purchase, a refund or an activity is worth."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from ..errors import LimitReached, ValidationFailed
from ..member import Profile
from ..program import Program
from . import cards


def multipliers(
    program: Program, profile: Profile, at: datetime, day: date, scene: str | None = None
) -> dict[str, Decimal]:
    """Every multiplier that applies to a purchase at `at`, by source. Factors of 1 are left out."""
    found: dict[str, Decimal] = {}
    level = program.level(profile.tier_id)
    if level is not None:
        found[f"tier:{level.id}"] = level.earn_multiplier
    for rule in program.points.multipliers:
        if rule.day_of_month is not None and rule.day_of_month != day.day:
            continue
        if rule.weekdays is not None and day.isoweekday() not in rule.weekdays:
            continue
        found[rule.id] = rule.factor
    warning = program.lifecycle.churn_warning
    if warning and profile.win_back_until and at <= profile.win_back_until:
        found["win_back"] = warning.earn_multiplier
    birthday = program.lifecycle.birthday
    if birthday and profile.birthday and profile.birthday[-5:-3] == f"{day.month:02d}":
        found["birthday"] = birthday.earn_multiplier
    for plan in cards.perks(program, profile, at, scene):
        found[f"card:{plan.id}"] = plan.earn_multiplier
    return {k: v for k, v in found.items() if v != 1}


def combined(program: Program, factors: dict[str, Decimal]) -> Decimal:
    if not factors:
        return Decimal(1)
    if program.points.stacking == "max":
        return max(factors.values())
    result = Decimal(1)
    for factor in factors.values():
        result *= factor
    return result


def purchase_points(program: Program, amount_minor: int, factor: Decimal) -> tuple[int, int]:
    """(base, earned). Rounded down once, at the end, so 19.99 at 1 point per unit earns 19."""
    rule = program.points.earn
    if amount_minor < rule.min_order_minor:
        return 0, 0
    raw = amount_minor * rule.points_per_unit
    # Exact fractions: a Decimal division first (10 / 3 = 3.33...3) would floor 3.33...3 x 3 to 9, not 10.
    return raw // rule.unit_minor, int(Fraction(raw) * Fraction(factor) // rule.unit_minor)


def first_order_bonus(program: Program, profile: Profile, paid_at: datetime) -> int:
    rule = program.lifecycle.first_order
    if rule is None or profile.orders_total > 0:
        return 0
    age = paid_at - profile.enrolled_at
    return rule.points if age.total_seconds() >= 0 and age.days < rule.within_days else 0


def reversal(order_points: int, order_minor: int, refunded_minor_after: int, reversed_before: int) -> int:
    """Points to take back so that, over all refunds, the order keeps points in proportion to what
    remains paid. Cumulative, so three partial refunds round the same way as one full refund."""
    should_have_reversed = order_points * refunded_minor_after // order_minor
    return max(0, should_have_reversed - reversed_before)


def activity_points(program: Program, profile: Profile, activity: str, day: date) -> int:
    """Points for one activity today; LimitReached when the daily cap for that type is used up."""
    rule = program.points.activities.get(activity)
    if rule is None:
        raise ValidationFailed.field("type", f"unknown activity type {activity!r} for this program")
    used = profile.activity_counts.get(activity, 0) if profile.activity_day == day.isoformat() else 0
    if rule.daily_cap is not None and used >= rule.daily_cap:
        raise LimitReached(
            f"daily cap of {rule.daily_cap} reached for {activity!r}", [{"field": "type", "limit": rule.daily_cap}]
        )
    return rule.points
