"""The facts of an event, built only for the paths its campaigns' expressions read.

`rules/expressions.FACTS` declares each trigger's facts and their types (what the checker at PUT
knows); `BUILD` says how each fact path is computed, one entry per path, so a new fact is one line
here beside its type there. A purchase whose campaigns read only `order.amount_minor` and
`member.tier` computes those two: no growth window summed, no paid cards sorted, whatever facts
are added later.

Which paths an expression reads is found by a scan of its source for each fact's name followed by
`.field` (`reads`): a superset of what it reads (a name in a string literal or a comment counts, a
fact used whole, `dyn(member)`, counts as all its fields), never less, so a fact it reads is
always built. The checker at PUT (rules/conditions.py) is not loaded by a purchase.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .. import clock
from ..member import Profile
from ..program import Program
from . import cards, counters, growth, wallets
from .expressions import FACTS, Fact


@dataclass(frozen=True)
class Source:
    """What the facts of one event are built from."""

    program: Program
    profile: Profile
    event: Any  # rules/campaigns.Event (which imports this module)
    local: datetime  # the event's time in the program's time zone
    write_day: date  # the write's program-local day (which counter periods a late event may still read)


def _days_since_enrolment(s: Source) -> int:
    return max(0, (s.local.date() - clock.local_date(s.profile.enrolled_at, s.program.zone)).days)


def _order(s: Source) -> Any:
    assert s.event.order is not None
    return s.event.order


def _activity(s: Source, key: str, default: Any) -> Any:
    return (s.event.activity or {}).get(key) or default


def _change(s: Source, key: str) -> str:
    return (s.event.change or {}).get(key) or ""


# fact path -> how it is computed (the member's facts are as of before the event)
BUILD: dict[str, Callable[[Source], Any]] = {
    "member.tier": lambda s: s.profile.tier_id or "",
    "member.tags": lambda s: list(s.profile.tags),
    "member.segment": lambda s: s.profile.segment or "",
    "member.lifecycle_stage": lambda s: s.profile.lifecycle_stage,
    "member.orders_total": lambda s: s.profile.orders_total,
    "member.lifetime_spend_minor": lambda s: s.profile.lifetime_spend_minor,
    "member.days_since_enrolment": _days_since_enrolment,
    "member.birthday_month": lambda s: int(s.profile.birthday[-5:-3]) if s.profile.birthday else 0,
    "member.birthday": lambda s: s.profile.birthday[-5:] if s.profile.birthday else None,  # MM-DD
    "member.paid_cards": lambda s: sorted(
        p for p, card in s.profile.paid_cards.items() if cards.active(card, s.event.at)
    ),
    "member.growth": lambda s: growth.window_growth(s.program, s.profile, s.local.date()),
    "member.counters": lambda s: counters.facts(s.program, s.profile, s.event.at, s.write_day),
    "member.wallets": lambda s: wallets.balances(s.program, s.profile),
    "member.referred": lambda s: s.profile.referred is not None,
    "member.referrals": lambda s: s.profile.referrals,
    "at.weekday": lambda s: s.local.isoweekday(),
    "at.day_of_month": lambda s: s.local.day,
    "at.hour": lambda s: s.local.hour,
    "at.month": lambda s: s.local.month,
    "at.date": lambda s: s.local.strftime("%m-%d"),
    "order.amount_minor": lambda s: _order(s).amount_minor,
    "order.store_id": lambda s: _order(s).store_id,
    "order.channel": lambda s: _order(s).channel,
    "order.scene": lambda s: _order(s).scene,
    "order.items": lambda s: _order(s).items,
    "order.units": lambda s: sum(i["quantity"] for i in _order(s).items),
    "activity.type": lambda s: _activity(s, "type", ""),
    "activity.streak_days": lambda s: _activity(s, "streak_days", 0),
    "activity.object_id": lambda s: _activity(s, "object_id", ""),
    "activity.attributes": lambda s: _activity(s, "attributes", {}),
    "change.from": lambda s: _change(s, "from"),
    "change.to": lambda s: _change(s, "to"),
    "change.direction": lambda s: _change(s, "direction"),
    "tag": lambda s: s.event.tag or "",
    "referral.referee_id": lambda s: s.event.referee or "",
    "referral.on": lambda s: s.program.referral.on if s.program.referral else "",
}
BUILT_APART = ("campaign",)  # a campaign's own facts (rules/campaigns.campaign_facts)
# Facts whose fields are the program's own ids (expressions.program_facts types them per program).
PER_PROGRAM = ("member.counters", "member.wallets")


def build(
    program: Program, profile: Profile, event: Any, paths: Iterable[str] | None = None, write_day: date | None = None
) -> dict[str, Any]:
    """The event's facts at `paths` (None: every fact of its trigger), without `campaign`. `write_day`:
    the day of the write (by default the event's)."""
    local = event.at.astimezone(program.zone)
    s = Source(program, profile, event, local, write_day or local.date())
    wanted = all_paths(event.trigger) if paths is None else paths
    facts: dict[str, Any] = {}
    for path in wanted:
        root, _, name = path.partition(".")
        if path not in BUILD:
            continue  # a campaign's own, or a field a scan found that the trigger does not have
        if name:
            facts.setdefault(root, {})[name] = BUILD[path](s)
        else:
            facts[root] = BUILD[path](s)
    return facts


@functools.cache
def all_paths(trigger: str) -> frozenset[str]:
    """Every fact path of a trigger (a fact read whole is all its fields)."""
    out: set[str] = set()
    for root, kind in FACTS.get(trigger, {}).items():
        if root in BUILT_APART:
            continue
        out |= {f"{root}.{name}" for name in kind.fields} if isinstance(kind, Fact) else {root}
    if "member" in FACTS.get(trigger, {}):
        out |= set(PER_PROGRAM)
    return frozenset(out)


@functools.cache
def _pattern(trigger: str) -> re.Pattern[str]:
    roots = "|".join(re.escape(r) for r in FACTS.get(trigger, {}) if r not in BUILT_APART)
    return re.compile(rf"(?<![\w.])({roots})\b(?:\s*\.\s*([A-Za-z_]\w*))?") if roots else re.compile(r"(?!x)x")


def reads(source: str, trigger: str, on_items: bool = False) -> frozenset[str]:
    """The fact paths an expression of `trigger` may read (a superset: see the module's note). An
    on_items expression is evaluated over `order.items`."""
    found: set[str] = {"order.items"} if on_items else set()
    every = all_paths(trigger)
    for root, name in _pattern(trigger).findall(source):
        path = f"{root}.{name}" if name else root
        if path in every:
            found.add(path)
        else:  # the fact used whole (or a field it lacks: the checker refused it at PUT)
            found |= {p for p in every if p == root or p.startswith(root + ".")}
    return frozenset(found)
