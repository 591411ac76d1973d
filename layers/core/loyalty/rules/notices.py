"""A notice in words an app can show (GET .../notices): "120 points expire on 2026-12-31".

Made when read, from the notice's data and the program as it is now, so notices written before this
text existed read alike. A campaign is named by its public title only (its `name` is the operator's
and may tell its conditions); a card by its plan's name; days are program-local."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from .. import clock
from ..member import Notice
from ..program import Program


def _plural(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def _day(program: Program, at: datetime | None) -> str:
    return clock.local_date(at, program.zone).isoformat() if at is not None else "?"


def _card(program: Program, n: Notice) -> str:
    plan = program.card_plan(n.plan_id) if n.plan_id else None
    return f"Your {plan.name if plan else n.plan_id} card"


def _gifts(program: Program, n: Notice) -> str:
    parts = [_plural(n.points, "point")] if n.points else []
    parts += [_plural(len(n.coupon_ids), "coupon")] if n.coupon_ids else []
    parts += [f"{k} {_wallet(program, w)}" for w, k in sorted(n.wallets.items()) if k]
    parts += [f"{n.growth} growth"] if n.growth else []
    parts += [f"{program.currency} {n.discount_minor / 100:.2f} off"] if n.discount_minor else []  # 2 decimals
    return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)


def _wallet(program: Program, wallet: str) -> str:
    found = program.wallets.get(wallet)
    return found.name if found is not None else wallet


def _offered(opening: str) -> Callable[[Program, Notice], str]:
    """A grant outside campaigns (rules/grant_notices): what it gave, after the occasion."""
    return lambda p, n: f"{opening}: you got {_gifts(p, n) or 'a gift'}"


def _churn(program: Program, n: Notice) -> str:
    gave, warning = _gifts(program, n), program.lifecycle.churn_warning
    if n.active_until is None or warning is None:
        return f"We miss you: you got {gave or 'a gift'}"
    boost = f"{warning.earn_multiplier.normalize():f}x points until {_day(program, n.active_until)}"
    return f"We miss you: you got {gave} and {boost}" if gave else f"We miss you: {boost}"


def _referral(program: Program, n: Notice) -> str:
    occasion = "Thanks for joining through a friend" if n.reason == "referee" else "Thanks for referring a friend"
    return _offered(occasion)(program, n)


def _campaign(program: Program, n: Notice) -> str:
    found = next((c for c in program.campaigns if c.id == n.campaign_id), None)
    title = found.public.title if found is not None and found.public is not None else "A campaign"
    gave = _gifts(program, n)
    return f"{title}: you got {gave}" if gave else f"{title} applied to you"


def _tier(program: Program, n: Notice) -> str:
    level = program.level(n.to_tier)
    name = level.name if level is not None else n.to_tier
    return f"Welcome to {name}" if n.reason == "upgrade" else f"Your tier is now {name}"


_TEXT: dict[str, Callable[[Program, Notice], str]] = {
    "points_expiring": lambda p, n: f"{n.points} points expire on {n.expires_on}",
    "card_purchased": lambda p, n: f"{_card(p, n)} is active until {_day(p, n.active_until)}",
    "card_cycle_issued": lambda p, n: f"{_card(p, n)}: this cycle's {_plural(len(n.coupon_ids), 'coupon')}",
    "card_expiring": lambda p, n: f"{_card(p, n)} ends on {_day(p, n.active_until)}",
    "card_expired": lambda p, n: f"{_card(p, n)} has ended",
    "card_refunded": lambda p, n: f"{_card(p, n)} was refunded",
    "campaign_applied": _campaign,
    "tier_changed": _tier,
    "birthday_gift": _offered("Happy birthday"),
    "churn_offer": _churn,
    "recall_offer": _offered("Come back"),
    "referral_reward": _referral,
}


def text(program: Program, n: Notice) -> str:
    """The notice in words; a kind without words of its own is named by its kind."""
    found = _TEXT.get(n.kind)
    return found(program, n) if found else n.kind.replace("_", " ").capitalize()
