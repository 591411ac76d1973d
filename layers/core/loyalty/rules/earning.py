"""How many points a purchase, a refund or an activity is worth."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .. import clock
from ..errors import Forbidden, LimitReached, ValidationFailed
from ..member import Profile, Streak
from ..program import Program
from . import cards, growth, pending, tiers
from .posting import Change, reversal  # noqa: F401 - reversal: the refund rule of points and growth


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


def exact_base(program: Program, amount_minor: int) -> Fraction:
    """Points the order is worth at 1x, unrounded: exact, so a multiplier and one rounding act on it."""
    rule = program.points.earn
    if amount_minor < rule.min_order_minor:
        return Fraction(0)
    # Exact fractions: a Decimal division first (10 / 3 = 3.33...3) would floor 3.33...3 x 3 to 9, not 10.
    return Fraction(amount_minor * rule.points_per_unit, rule.unit_minor)


def purchase_points(program: Program, amount_minor: int, factor: Decimal) -> tuple[int, int]:
    """(base, earned). Rounded down once, at the end, so 19.99 at 1 point per unit earns 19."""
    base = exact_base(program, amount_minor)
    return math.floor(base), math.floor(base * Fraction(factor))


def decimal_text(value: Decimal) -> str:
    """The one form a decimal takes in a response: no exponent, no trailing zeros ("2", "3", "3.6")."""
    return exact_text(Fraction(value))


def exact_text(value: Fraction) -> str:
    """An exact number as text: a decimal in `decimal_text`'s form when one is exact, else "p/q" in
    lowest terms (10/3: 1 point per 3.00 on 10.00), never a rounded decimal that would not multiply out.
    Integer arithmetic throughout: Decimal's context would round past 28 digits."""
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    whole, frac = divmod(abs(value.numerator) * 10**places // value.denominator, 10**places)
    sign = "-" if value < 0 else ""
    return sign + str(whole) + (f".{frac:0{places}d}".rstrip("0") if frac else "")


def breakdown(program: Program, amount_minor: int, factors: dict[str, Decimal], factor: Decimal) -> dict[str, Any]:
    """How a purchase's points came about, so that it multiplies out in the response itself:
    `base_exact` x `multiplier` = `earned_exact`, rounded down once = `earned`. `base` is the order's
    points at 1x (rounded down on its own), kept for the contract; it is not an input to `earned`."""
    rule = program.points.earn
    base = exact_base(program, amount_minor)
    earned = base * Fraction(factor)
    rounded_base, rounded = purchase_points(program, amount_minor, factor)  # the one rounding rule
    if amount_minor < rule.min_order_minor:
        calculation = f"{amount_minor} is below min_order_minor {rule.min_order_minor}: 0"
    else:
        calculation = (
            f"{amount_minor} x {rule.points_per_unit} / {rule.unit_minor} = {exact_text(base)}; "
            f"{exact_text(base)} x {decimal_text(factor)} = {exact_text(earned)}; rounded down: {rounded}"
        )
    return {
        "base": rounded_base,
        "base_exact": exact_text(base),
        "multiplier": decimal_text(factor),
        "multipliers": {source: decimal_text(f) for source, f in factors.items()},
        "stacking": program.points.stacking,
        "earned_exact": exact_text(earned),
        "rounding": "down",
        "earned": rounded,
        "calculation": calculation,
    }


def first_order_bonus(program: Program, profile: Profile, paid_at: datetime, *, amount_minor: int) -> int:
    """The first order's bonus: an order of 0 (a cart paid in full with coupons and points) earns
    nothing, and still counts as the member's first order."""
    rule = program.lifecycle.first_order
    if rule is None or amount_minor <= 0 or profile.orders_total > 0 or profile.returning:
        return 0
    age = paid_at - profile.enrolled_at
    return rule.points if age.total_seconds() >= 0 and age.days < rule.within_days else 0


def check_self_report(program: Program, activity: str) -> None:
    """A member reports only the types the program lets it (`self_report`): the others are the
    server's to report, or a member could credit itself any uncapped type at will. An unknown type is
    left to `activity_points` (422)."""
    rule = program.points.activities.get(activity)
    if rule is not None and not rule.self_report:
        message = f"activity type {activity!r} is not one a member reports itself"
        raise Forbidden(message, [{"field": "type", "message": message}])


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


def record_purchase(change: Change, amount_minor: int, paid_at: datetime, month: str) -> None:
    """What a purchase adds to the member's history: spend, orders and growth per program-local month
    (the tier metric's data, kept for the tier window), the last purchase, and an active lifecycle stage."""
    p = change.profile
    p.spend_by_month[month] = p.spend_by_month.get(month, 0) + amount_minor
    p.orders_by_month[month] = p.orders_by_month.get(month, 0) + 1
    p.orders_total += 1
    p.lifetime_spend_minor += amount_minor
    p.last_purchase_at = max(filter(None, [p.last_purchase_at, paid_at]))
    p.last_activity_at = max(filter(None, [p.last_activity_at, paid_at]))
    p.lifecycle_stage = "active"
    growth.add_growth(change, growth.growth_of_order(change.program, amount_minor), month)
    if change.program.tiers is not None:
        keep = max(change.program.tiers.window_months, 12) + 1
        p.spend_by_month = tiers.prune_months(p.spend_by_month, change.today, keep)
        p.orders_by_month = tiers.prune_months(p.orders_by_month, change.today, keep)


def take_back(
    change: Change,
    order_id: str,
    owed: int,
    at: datetime,
    ref: str,
    by_campaign: dict[str, int] | None = None,
    at_once: int = 0,
) -> tuple[int, int]:
    """What a refund owes of its order's points: first what the order still has pending (inside the
    return window, each part by what the refund takes of it: `by_campaign`, the rest from the earn
    and the bonus), then from the balance, never below zero. `at_once` of `owed` was never pending
    (the campaigns the order's tier change or tags set off): it comes from the balance only.
    Returns (cancelled, taken)."""
    cancelled = pending.cancel(change.profile, f"order:{order_id}", owed - at_once, by_campaign)
    taken = min(owed - cancelled, change.balance)
    change.debit("reverse", taken, at, ref, f"refund of order {order_id}")
    return cancelled, taken


def record_refund(change: Change, order_month: str, amount_minor: int, in_full: bool) -> None:
    """A refund takes its amount out of the order's month (tier qualification); a full one, the order."""
    p = change.profile
    p.lifetime_spend_minor = max(0, p.lifetime_spend_minor - amount_minor)
    if order_month in p.spend_by_month:
        p.spend_by_month[order_month] = max(0, p.spend_by_month[order_month] - amount_minor)
    if in_full and p.orders_by_month.get(order_month):
        p.orders_by_month[order_month] -= 1


def streak_days(profile: Profile, type_: str, day: date) -> int:
    """What an activity of `type_` on the program-local `day` makes its streak (consecutive days with
    that type): a day after the run's last extends it, the same day keeps it, a gap starts again at 1.
    A late activity for a day inside the run counts as that day's place in it; one older than the
    run, 1 (what came before the run is not kept)."""
    run = profile.streaks.get(type_)
    if run is None:
        return 1
    gap = (day - date.fromisoformat(run.day)).days
    if gap >= 1:
        return run.days + 1 if gap == 1 else 1
    return run.days + gap if -gap < run.days else 1


def record_activity(change: Change, type_: str, at: datetime, day: str) -> None:
    """An activity counts toward its type's daily cap (program-local `day`), its streak, the member's
    last activity and its type's growth (in the day's month). A late activity for an older day neither
    breaks nor extends a newer streak."""
    p = change.profile
    month = clock.month_key(date.fromisoformat(day))
    growth.add_growth(change, growth.growth_of_activity(change.program, type_), month)
    run = p.streaks.get(type_)
    if run is None or day > run.day:
        p.streaks[type_] = Streak(day=day, days=streak_days(p, type_, date.fromisoformat(day)))
    # Only the latest day's counters are kept: caps are per day, older days cannot matter.
    if p.activity_day is None or day > p.activity_day:
        p.activity_day, p.activity_counts = day, {}
    if p.activity_day == day:
        p.activity_counts[type_] = p.activity_counts.get(type_, 0) + 1
    p.last_activity_at = max(filter(None, [p.last_activity_at, at]))
