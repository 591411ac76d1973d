"""The campaigns report (issue 31): each campaign's status, its figures and cost over a range of
program-local days, and its per-day series, from the counters the stream keeps (rules/health)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..program import Campaign, Program
from . import campaigns, health

COUNTED = health.CAMPAIGN_COUNTERS + health.CAMPAIGN_REFUND_COUNTERS + health.CAMPAIGN_COST_COUNTERS
Counters = dict[str, Any]  # counter name -> amount (a counter item, or several summed)


def figures(program: Program, counters: Counters) -> dict[str, int]:
    """The counted figures and `cost_minor`: the points it gave net of what refunds took back, at the
    program's point value (rounded down), plus the money its used coupons took off, plus its checkout
    discounts."""
    out = {name: int(counters.get(name, 0)) for name in COUNTED}
    value = program.points.value
    points = out["points_given"] - out["points_reversed"]
    out["cost_minor"] = points * value.worth_minor // value.points + out["coupons_used_minor"] + out["discount_minor"]
    return out


def summed(days: list[Counters]) -> Counters:
    total: dict[str, int] = {}
    for day in days:
        for name in COUNTED:
            total[name] = total.get(name, 0) + int(day.get(name, 0))
    return total


def status(c: Campaign, program: Program, now: datetime, budget_left: dict[str, int] | None) -> str:
    """`scheduled` (before its window), `ended` (after it), `budget_spent` (in it, a budget with nothing
    left: it no longer applies), else `running`."""
    if not campaigns.active(c, now, program):
        window = c.active
        unbounded = window is not None and c.model_copy(update={"active": window.model_copy(update={"until": None})})
        started = not unbounded or campaigns.active(unbounded, now, program)
        return "ended" if started else "scheduled"
    if budget_left and any(left <= 0 for left in budget_left.values()):
        return "budget_spent"
    return "running"


def budget_sites(c: Campaign) -> list[str]:
    """The keys of the campaign's budgets (none: no budget)."""
    return [campaigns.campaign_budget_key(c, k) for k in campaigns.budget_limits(c)]


def budget_left(c: Campaign, taken: dict[str, int]) -> dict[str, int] | None:
    """What each of its budgets has left, from what they have given by key (null: no budget)."""
    if c.limits.budget is None:
        return None
    limits = campaigns.budget_limits(c)
    return {k: limit - taken.get(campaigns.campaign_budget_key(c, k), 0) for k, limit in limits.items()}


def row(
    program: Program, c: Campaign, by_day: dict[str, Counters], budget_left: dict[str, int] | None, now: datetime
) -> dict[str, Any]:
    """One campaign of the report: the range's figures and the days that counted anything, oldest first."""
    days = [{"date": day, **figures(program, by_day[day])} for day in sorted(by_day)]
    return {
        "campaign_id": c.id,
        "name": c.name,
        "trigger": c.trigger,
        "status": status(c, program, now, budget_left),
        **figures(program, summed(list(by_day.values()))),
        "budget_left": budget_left,
        "days": days,
    }
