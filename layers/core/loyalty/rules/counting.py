"""What an event adds to the program's counters, and what a refund takes back (rules/counters.py keeps
them on the profile).

A purchase counts in the counters of orders, spend_minor and units, an activity in those of
activities (of `activity_type`, if given); each only when its `when` holds on the event's facts, as
of before the event (the facts campaigns read), and over the lines its `on_items` picks. The count
goes to the period of the event's own time. `measure` runs before the event's campaigns and `add`
after them, so that `member.counters.<id>` reads the count before the event. The order's reference
keeps what each counter counted (`recorded`), by line where lines were counted, so that its refunds
take back exactly that (`take_back`), cumulatively like every share of a refund.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..program import Counter, Program
from . import campaigns, counters, expressions
from . import facts as event_facts
from .posting import Change
from .refunds import Refunded


@dataclass(frozen=True)
class Ready:
    counter: Counter
    when: expressions.Compiled | None
    on_items: expressions.Compiled | None


@dataclass
class Count:
    """What one event counted in one counter: `n` in `period`; `lines`, by order line (0-based), where
    it counted lines (units, or spend over on_items); `whole`, an order counted as one."""

    period: str
    n: int
    lines: dict[int, int] = field(default_factory=dict)
    whole: bool = False


def ready(program: Program) -> list[Ready]:
    """The program's counters with their expressions compiled, once per Program object."""
    cached: list[Ready] | None = program.derived.get("counters")
    if cached is None:
        cached = [
            Ready(
                c,
                expressions.compile(c.when) if c.when else None,
                expressions.compile(c.on_items) if c.on_items else None,
            )
            for c in program.counters
        ]
        program.derived["counters"] = cached
    return cached


def _reads(program: Program, trigger: str) -> frozenset[str]:
    """The fact paths the counters' `when` and `on_items` read on an event of `trigger`, once per Program."""
    cached: dict[str, frozenset[str]] = program.derived.setdefault("counter_reads", {})
    if trigger not in cached:
        paths: set[str] = set()
        for c in program.counters:
            paths |= event_facts.reads(c.when, trigger) if c.when else set()
            paths |= event_facts.reads(c.on_items, trigger, on_items=True) if c.on_items else set()
        cached[trigger] = frozenset(paths)
    return cached[trigger]


def measure(change: Change, event: campaigns.Event) -> dict[str, Count]:
    """What a purchase or an activity counts, by counter (nothing is added yet: `add`)."""
    program = change.program
    mine = [r for r in ready(program) if _counts(r.counter, event)]
    act = None
    if any(r.when or r.on_items for r in mine):  # the facts campaigns read: built once, for them too
        paths = campaigns.reads(program, event.trigger) | _reads(program, event.trigger)
        act = expressions.activation(campaigns.facts(program, change.profile, event, None, paths, change.today))
        event.shared = act
    counted: dict[str, Count] = {}
    for r in mine:
        key = counters.key_at(program, r.counter.period, event.at, change.today)
        if key is None:
            continue  # older than the counter keeps
        if r.when and act is not None and not expressions.test(r.when, act):
            continue
        count = _amount(r, event, act, key)
        if count is not None and count.n > 0:
            counted[r.counter.id] = count
    return counted


def _counts(c: Counter, event: campaigns.Event) -> bool:
    """Whether the counter counts events of this kind: purchases, or activities (of its type)."""
    if event.activity is None:
        return c.counts != "activities"
    return c.counts == "activities" and c.activity_type in (None, event.activity.get("type"))


def _amount(r: Ready, event: campaigns.Event, act: expressions.Activation | None, key: str) -> Count | None:
    c = r.counter
    if event.activity is not None:
        return Count(key, 1)
    order = event.order
    if order is None:
        return None
    items = order.items
    picked = [True] * len(items)
    if r.on_items is not None and act is not None:
        picked = [expressions.test(r.on_items, act, i) for i in items]
    if c.counts == "orders":
        return Count(key, 1, whole=True) if r.on_items is None or any(picked) else None
    if c.counts == "spend_minor" and r.on_items is None:
        return Count(key, order.amount_minor)  # the order's money: a refund takes back its share
    field_ = "amount_minor" if c.counts == "spend_minor" else "quantity"
    lines = {k: int(i[field_]) for k, (i, hit) in enumerate(zip(items, picked, strict=True)) if hit and i[field_] > 0}
    return Count(key, sum(lines.values()), lines)


def add(change: Change, counted: dict[str, Count]) -> None:
    """Add what an event counted to the profile, and drop the periods no longer kept."""
    if not counted and not change.profile.counters:
        return
    for counter_id, count in counted.items():
        counters.add(change.profile, counter_id, count.period, count.n)
    counters.prune(change.program, change.profile, change.today)


def recorded(counted: dict[str, Count]) -> dict[str, Any]:
    """What the order's reference keeps for its refunds: `counted`, by counter."""
    if not counted:
        return {}
    kept: dict[str, Any] = {}
    for counter_id, c in counted.items():
        entry: dict[str, Any] = {"period": c.period, "n": c.n}
        if c.lines:
            entry["lines"] = {str(k): n for k, n in c.lines.items()}
        if c.whole:
            entry["whole"] = True
        kept[counter_id] = entry
    return {"counted": kept}


def take_back(change: Change, order: dict[str, Any], r: Refunded) -> dict[str, int] | None:
    """What this refund takes back of what the order counted: an order counted as one comes back on a
    full refund only, lines by their refunded share, the rest by the refunded share of the money.
    Returns what all refunds so far took, by counter (the reference's `counters_reversed`), None when
    the order counted nothing."""
    counted: dict[str, dict[str, Any]] | None = order.get("counted")
    if not counted:
        return None
    before: dict[str, Any] = order.get("counters_reversed") or {}
    taken = {cid: int(n) for cid, n in before.items()}
    for counter_id, entry in counted.items():
        owed = _owed(entry, r)
        n = owed - taken.get(counter_id, 0)
        if n > 0:
            counters.take(change.profile, counter_id, entry["period"], n)
            taken[counter_id] = owed
    return taken


def _owed(entry: dict[str, Any], r: Refunded) -> int:
    """What all refunds so far should have taken of one counter's count."""
    n = int(entry["n"])
    if entry.get("whole"):
        return n if r.full else 0
    lines: dict[str, int] | None = entry.get("lines")
    if lines:
        return sum(_part(int(v), r.line_share(int(k))) for k, v in lines.items())
    return _part(n, r.share)


def _part(n: int, share: Fraction) -> int:
    return math.floor(n * share)
