"""Growth tiers: the qualifying metric over a rolling window, upgrades, and progress."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from .. import clock
from ..member import Profile
from ..program import Level, Program, Tiers

if TYPE_CHECKING:  # posting uses next_review; a runtime import would be circular
    from .posting import Change


def metric(tiers: Tiers, profile: Profile, today: date) -> int:
    """Spend (minor units) or orders over the `window_months` months ending with today's month."""
    per_month = profile.spend_by_month if tiers.metric == "spend" else profile.orders_by_month
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

    Only upward: a downgrade happens at review time, never on a purchase or refund.
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


def review(change: Change) -> None:
    """Upgrade at once whenever the metric allows; at a due review, a member under its tier's threshold
    `grace_reviews + 1` reviews in a row drops one level (never two at once)."""
    program, p = change.program, change.profile
    if program.tiers is None:
        return
    value = metric(program.tiers, p, change.today)
    for level in upgrades(program.tiers, p.tier_id, value):
        change.move_tier(level, "upgrade", f"upgrade:{level.id}:review:{change.today}")
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
