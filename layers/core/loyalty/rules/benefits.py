"""Periodic benefits: each tier's `every_month` grant, the birthday-month gift, the grant of the
member's RFM segment (`rfm.benefits`) and the grant of each tag it holds (`tag_benefits`), once per month.

The period is the program-local month. Coupon ids derive from (benefit, period), and the profile
records the last month settled (`benefits_month`; per tag, `tag_months`), so a month never issues twice
however often a run repeats. A tag is settled on its own: a member tagged after this month's benefits
were issued receives the tag's grant at the next run, not a month later."""

from __future__ import annotations

from datetime import date

from .. import clock
from ..member import Profile
from ..program import Grant, Program
from . import grant_notices
from .posting import Change


def _monthly(program: Program) -> bool:
    """Benefits every member may be due each month (tiers, birthdays, segments): those settle together."""
    tiers = program.tiers.levels if program.tiers else []
    segments = bool(program.rfm and program.rfm.benefits)
    return any(level.every_month for level in tiers) or program.lifecycle.birthday is not None or segments


def has_benefits(program: Program) -> bool:
    return _monthly(program) or bool(program.tag_benefits)


def benefit_tags(program: Program, profile: Profile) -> list[str]:
    """The member's tags that carry a monthly benefit."""
    return [tag for tag in profile.tags if tag in program.tag_benefits]


def tags_due(program: Program, profile: Profile, period: str) -> list[str]:
    """The member's benefit tags whose grant has not been issued for `period` yet."""
    return [tag for tag in benefit_tags(program, profile) if profile.tag_months.get(tag) != period]


def benefits_day(program: Program, profile: Profile, today: date) -> date | None:
    """Today when this month is not settled yet, else the first day of next month. A program whose
    only benefits are tags' makes only members holding such a tag due."""
    monthly, tagged = _monthly(program), bool(benefit_tags(program, profile))
    if not monthly and not tagged:
        return None
    period = clock.month_key(today)
    if (monthly and profile.benefits_month != period) or tags_due(program, profile, period):
        return today
    return clock.add_months(today.replace(day=1), 1)


def issue(change: Change) -> None:
    program, p = change.program, change.profile
    period = clock.month_key(change.today)
    _issue_tags(change, period)
    if not _monthly(program) or p.benefits_month == period:
        return
    level = program.level(p.tier_id)
    if level is not None and level.every_month is not None:
        change.grant(level.every_month, "bonus", change.at, f"tier:{level.id}:{period}", budget=f"tier:{level.id}")
    gift = program.lifecycle.birthday
    if gift and p.birthday and p.birthday[-5:-3] == f"{change.today.month:02d}":
        # Valid through the end of the birthday month at least, so it covers the birthday itself
        # (and a Feb 29 birthday in other years) however early in the month it is issued.
        since, source = grant_notices.mark(change), f"birthday:{period}"
        change.grant(
            Grant(points=gift.points, coupons=gift.coupons, budget=gift.budget),
            "bonus",
            change.at,
            source,
            budget="birthday",
            valid_through=clock.end_of_month(change.today),
        )
        grant_notices.notice(change, since, "birthday_gift", source)
    target = program.rfm.benefits.get(p.segment or "") if program.rfm else None
    if target is not None:
        change.grant(target, "bonus", change.at, f"segment:{p.segment}:{period}", budget=f"segment:{p.segment}")
    p.benefits_month = period


def _issue_tags(change: Change, period: str) -> None:
    """Each held tag's grant, once per month (a tag removed and added again in a month is not paid twice)."""
    program, p = change.program, change.profile
    due = tags_due(program, p, period)
    for tag in due:
        change.grant(program.tag_benefits[tag], "bonus", change.at, f"tag:{tag}:{period}", budget=f"tag:{tag}")
    # Only this month's records can matter: older ones are dropped, so the profile stays small.
    months = {tag: month for tag, month in p.tag_months.items() if month == period} | dict.fromkeys(due, period)
    if months != p.tag_months:
        p.tag_months = months
