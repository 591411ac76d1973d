"""Growth value (成长值): spend and behaviour counted per program-local month, the tier metric "growth"
(`tiers.metric`) and the campaigns' `member.growth`.

All growth a member gets goes through `add_growth` (a purchase, an activity, a campaign's `growth`
effect); all growth a refund takes back goes through `take_growth`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from .. import clock
from ..member import Profile
from ..program import Level, Program
from . import tiers
from .posting import Change, reversal

# Without tiers there is no window: growth is counted over (and kept for) the last 12 months.
DEFAULT_WINDOW = 12


def _window_months(program: Program) -> int:
    return program.tiers.window_months if program.tiers is not None else DEFAULT_WINDOW


def growth_of_order(program: Program, amount_minor: int) -> int:
    """One growth per whole `per_unit_minor` of the amount, rounded down; 0 without a growth config."""
    config = program.tiers.growth if program.tiers is not None else None
    return amount_minor // config.per_unit_minor if config is not None and amount_minor > 0 else 0


def growth_of_activity(program: Program, type_: str) -> int:
    """The growth one activity of this type gives; 0 for a type the growth config does not name."""
    config = program.tiers.growth if program.tiers is not None else None
    return config.activities.get(type_, 0) if config is not None else 0


def add_growth(change: Change, amount: int, month: str) -> None:
    """The one way growth is added: `amount` to the program-local `month` (YYYY-MM). Months no window
    can reach are pruned, as spend is, so a late-synced order from before them adds nothing; what
    stays is counted in `change.growth` (what this write gave)."""
    if amount <= 0:
        return
    p = change.profile
    p.growth_by_month[month] = p.growth_by_month.get(month, 0) + amount
    keep = max(_window_months(change.program), 12) + 1  # record_purchase keeps spend as long
    p.growth_by_month = tiers.prune_months(p.growth_by_month, change.today, keep)
    if month in p.growth_by_month:
        change.growth += amount


def take_growth(change: Change, amount: int, month: str) -> int:
    """Take up to `amount` back from `month` (a refund: the order's month), never below zero there;
    returns what was taken."""
    p = change.profile
    held = p.growth_by_month.get(month, 0)
    taken = min(held, max(0, amount))
    if taken:
        p.growth_by_month[month] = held - taken
    return taken


def window_growth(program: Program, profile: Profile, today: date) -> int:
    """Growth over the tier window ending with today's month (the last 12 months without tiers):
    the tier metric "growth", the member view's `growth` and the campaigns' `member.growth`."""
    return sum(profile.growth_by_month.get(m, 0) for m in clock.months_back(today, _window_months(program)))


def upgrade_after_activity(change: Change, source: Callable[[Level], str]) -> list[Level]:
    """An activity moves the tier only when the metric is growth (spend and orders do not change on
    one); then it upgrades at once through the one upgrade path, as a purchase does."""
    if change.program.tiers is None or change.program.tiers.metric != "growth":
        return []
    return tiers.upgrade(change, source)


def refund(change: Change, order: dict[str, Any], refunded_after: int) -> tuple[int, int]:
    """A refund takes the order's growth back in proportion, cumulatively like its points
    (earning.reversal). Returns (what earlier refunds took, what this one takes). Orders credited
    before growth existed carry neither field: they gave none."""
    before = int(order.get("growth_reversed", 0))
    owed = reversal(int(order.get("order_growth", 0)), int(order["order_minor"]), refunded_after, before)
    take_growth(change, owed, order["order_month"])
    return before, owed
