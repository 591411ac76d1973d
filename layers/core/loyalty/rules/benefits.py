"""Periodic benefits: each tier's `every_month` grant, the birthday-month gift and the grant of the
member's RFM segment (`rfm.benefits`), once per month.

The period is the program-local month. Coupon ids derive from (benefit, period), and the profile
records the last month settled, so a month never issues twice however often a run repeats."""

from __future__ import annotations

from datetime import date

from .. import clock
from ..member import Profile
from ..program import Grant, Program
from .posting import Change


def has_benefits(program: Program) -> bool:
    tiers = program.tiers.levels if program.tiers else []
    segments = bool(program.rfm and program.rfm.benefits)
    return any(level.every_month for level in tiers) or program.lifecycle.birthday is not None or segments


def benefits_day(program: Program, profile: Profile, today: date) -> date | None:
    """Today when this month is not settled yet, else the first day of next month."""
    if not has_benefits(program):
        return None
    if profile.benefits_month != clock.month_key(today):
        return today
    return clock.add_months(today.replace(day=1), 1)


def issue(change: Change) -> None:
    program, p = change.program, change.profile
    period = clock.month_key(change.today)
    if not has_benefits(program) or p.benefits_month == period:
        return
    level = program.level(p.tier_id)
    if level is not None and level.every_month is not None:
        change.grant(level.every_month, "bonus", change.at, f"tier:{level.id}:{period}", budget=f"tier:{level.id}")
    gift = program.lifecycle.birthday
    if gift and p.birthday and p.birthday[-5:-3] == f"{change.today.month:02d}":
        # Valid through the end of the birthday month at least, so it covers the birthday itself
        # (and a Feb 29 birthday in other years) however early in the month it is issued.
        change.grant(
            Grant(points=gift.points, coupons=gift.coupons, budget=gift.budget),
            "bonus",
            change.at,
            f"birthday:{period}",
            budget="birthday",
            valid_through=clock.end_of_month(change.today),
        )
    target = program.rfm.benefits.get(p.segment or "") if program.rfm else None
    if target is not None:
        change.grant(target, "bonus", change.at, f"segment:{p.segment}:{period}", budget=f"segment:{p.segment}")
    p.benefits_month = period
