"""The program as one member sees it in its app (GET .../me/program, API.md "What the member's app
shows"): tiers with their benefits in words, rewards with whether this member can redeem one now
(asked of `spending.check_redeem`, the check a redemption makes: never a second copy of it),
activities, and the campaigns the program made public (their conditions and budgets never)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from .. import clock
from ..errors import LoyaltyError
from ..program import Grant, Level, Program, Reward
from . import campaigns, spending
from .posting import Change, budget_key

# Stock taken per reward: reward id -> shard -> units taken (the STOCK items read).
Taken = dict[str, dict[int, int]]


def reward_budgets(program: Program, today: date) -> dict[str, int]:
    """The budget keys of this month the program's rewards take from, with their limits."""
    month = clock.month_key(today)
    budgeted = [(r, r.grant.budget) for r in program.rewards if r.grant.budget is not None]
    return {budget_key(spending.budget_site(r), month): limit for r, limit in budgeted}


def spent(budgets: dict[str, int], taken: dict[str, int]) -> set[str]:
    """The budgets with no room for one more unit: a redemption's write would be refused on them."""
    return {k for k, limit in budgets.items() if taken.get(k, 0) + 1 > limit}


def stock_shards(program: Program) -> list[tuple[str, int]]:
    """(reward id, shard) of every stocked reward: what the view reads of the stock."""
    return [(r.id, i) for r in program.rewards if r.stock is not None for i in range(len(spending.allotments(r.stock)))]


def view(program: Program, change: Change, taken: Taken) -> dict[str, Any]:
    """The member's program view. `change`: started on the member's profile at the reader's time,
    with the budgets read spent in its `exhausted` (as a redemption's retry knows them); it is
    never written."""
    return {
        "name": program.name,
        "currency": program.currency,
        "tiers": [tier(program, level) for level in (program.tiers.levels if program.tiers else [])],
        "rewards": [reward(change, r, taken.get(r.id, {})) for r in program.rewards],
        "activities": [
            {"type": t, "points": a.points, "daily_cap": a.daily_cap, "self_report": a.self_report}
            for t, a in program.points.activities.items()
        ],
        "campaigns": public_campaigns(program, change.at),
    }


def reward(change: Change, r: Reward, taken: dict[int, int]) -> dict[str, Any]:
    """One reward, and whether one unit of it can be redeemed now; if not, the redemption's error code."""
    shown: dict[str, Any] = {"id": r.id, "name": r.name}
    shown |= {"cost_points": r.cost_points} if r.cost is None else {"cost": r.cost.model_dump()}
    try:
        spending.check_redeem(change, r, 1, spending.full_shards(r, taken))
        shown |= {"available": True}
    except LoyaltyError as refused:
        shown |= {"available": False, "reason": refused.code}
    left = spending.stock_left(r, taken)
    return shown | ({"stock_left": left} if left is not None else {})


def tier(program: Program, level: Level) -> dict[str, Any]:
    benefits: list[dict[str, Any]] = []
    if level.earn_multiplier != 1:
        factor = float(level.earn_multiplier)
        benefits.append({"kind": "earn_multiplier", "name": f"{factor:g}x points", "earn_multiplier": factor})
    benefits += _gift(program, "upgrade_gift", "On reaching the tier", level.on_upgrade)
    benefits += _gift(program, "monthly_gift", "Every month", level.every_month)
    return {
        "id": level.id,
        "name": level.name,
        "threshold": level.threshold,
        "earn_multiplier": float(level.earn_multiplier),
        "benefits": benefits,
    }


def _gift(program: Program, kind: str, when: str, grant: Grant | None) -> list[dict[str, Any]]:
    """A grant in words ("Every month: 100 points, 10 off 50"), with its points and coupon templates."""
    if grant is None or not (grant.points or grant.coupons):
        return []
    names = [program.coupons[c].name if c in program.coupons else c for c in grant.coupons]
    what = ([f"{grant.points} points"] if grant.points else []) + names
    coupons = [{"template_id": c, "name": n} for c, n in zip(grant.coupons, names, strict=True)]
    return [{"kind": kind, "name": f"{when}: {', '.join(what)}", "points": grant.points, "coupons": coupons}]


def public_campaigns(program: Program, at: datetime) -> list[dict[str, Any]]:
    """Only campaigns with `public`; `active`: inside its window now (a spent budget is not shown)."""
    return [
        {
            "id": c.id,
            "title": c.public.title,
            "description": c.public.description,
            "active": campaigns.active(c, at, program),
        }
        for c in program.campaigns
        if c.public is not None
    ]
