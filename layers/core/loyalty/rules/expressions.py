"""CEL (Common Expression Language) for campaign conditions: the facts each trigger has, and evaluation.

The only module that imports a CEL library: `common-expression-language` (module `cel`, a Rust core;
bench/cel.py measured it against cel-python, see the README). Expressions are compiled once (the caller
caches them with the program version) and evaluated on one conversion of an event's facts. Evaluation
never raises: any error is False (a purchase must never fail on a campaign). The checks at PUT
(syntax, types, unknown facts, bounds) are rules/conditions.py, which only the programs function loads.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

from . import simple_cel


@functools.cache
def library() -> Any:
    """The native module `cel.cel` without the package's __init__: we wrote this because `import cel`
    imports its command-line tool (typer, rich, prompt_toolkit: 170-460 ms of a cold start, and
    dependencies the layer does not ship), while this module with `cel.cel` alone imports in ~10 ms."""
    if "cel" not in sys.modules:
        spec = importlib.util.find_spec("cel")  # finds the package without running its __init__
        if spec is None:
            raise ImportError("common-expression-language is not installed")
        sys.modules["cel"] = importlib.util.module_from_spec(spec)  # a bare package: its path, no code run
    return importlib.import_module("cel.cel")


# --- the facts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class List:
    elem: Type


@dataclass(frozen=True)
class Map:
    key: Type
    value: Type


@dataclass(frozen=True)
class Nullable:
    """A value that may be null (CEL null): `member.birthday` of a member who gave none."""

    of: Type


@dataclass(frozen=True, eq=False)
class Fact:
    """A fact (or an order item): a map with declared fields, each always present."""

    name: str
    fields: dict[str, Type]


# A primitive is its CEL name: int, uint, double, string, bytes, bool, null, or dyn (not known until run).
Type = Union[str, List, Map, Fact, Nullable]  # noqa: UP007 - used at runtime, by the dataclasses above

ITEM = Fact("item", {"sku": "string", "category": "string", "amount_minor": "int", "quantity": "int"})
ORDER = Fact(
    "order",
    {
        "amount_minor": "int",
        "store_id": "string",
        "channel": "string",
        "scene": "string",
        "items": List(ITEM),
        "units": "int",  # the items' quantities summed
    },
)
# A checkout's lines: prices of one unit (member_price_minor is unit_price_minor where the catalogue has
# none), amount_minor at unit prices, before any discount.
CHECKOUT_ITEM = Fact(
    "item",
    {
        "sku": "string",
        "category": "string",
        "quantity": "int",
        "unit_price_minor": "int",
        "member_price_minor": "int",
        "amount_minor": "int",
    },
)
CHECKOUT_ORDER = Fact("order", {**ORDER.fields, "items": List(CHECKOUT_ITEM)})
ACTIVITY = Fact(
    "activity",
    {"type": "string", "streak_days": "int", "object_id": "string", "attributes": Map("string", "string")},
)
MEMBER = Fact(
    "member",
    {
        "tier": "string",
        "tags": List("string"),
        "segment": "string",
        "lifecycle_stage": "string",
        "orders_total": "int",
        "lifetime_spend_minor": "int",
        "days_since_enrolment": "int",
        "birthday_month": "int",
        "paid_cards": List("string"),
        "growth": "int",
        "birthday": Nullable("string"),  # MM-DD, or null
        "referred": "bool",  # enrolled with a referral code
        "referrals": "int",  # referees whose conversion rewarded this member
    },
)
AT = Fact("at", {"weekday": "int", "day_of_month": "int", "hour": "int", "month": "int", "date": "string"})
# A tier change (trigger tier_changed): a move over several levels in one write is one change.
CHANGE = Fact("change", {"from": "string", "to": "string", "direction": "string"})
CAMPAIGN = Fact("campaign", {"uses_by_member": "int", "arm": "string"})  # arm: rules/experiments
# A referral converted (trigger referral_converted, the referrer's): who, and on what (enrolment, first_order).
REFERRAL = Fact("referral", {"referee_id": "string", "on": "string"})
_ALWAYS: dict[str, Fact] = {"member": MEMBER, "at": AT, "campaign": CAMPAIGN}

# trigger -> the facts its expressions may use (the caller gives each one, missing values as "" / 0)
FACTS: dict[str, dict[str, Type]] = {
    "purchase": {"order": ORDER, **_ALWAYS},
    "refund": {"order": ORDER, **_ALWAYS},
    "activity": {"activity": ACTIVITY, **_ALWAYS},
    "enrolment": _ALWAYS,
    "tier_changed": {"change": CHANGE, **_ALWAYS},
    "tag_added": {"tag": "string", **_ALWAYS},  # the tag the write added
    "redemption": _ALWAYS,
    "card_purchase": _ALWAYS,
    "checkout": {"order": CHECKOUT_ORDER, **_ALWAYS},
    "referral_converted": {"referral": REFERRAL, **_ALWAYS},
}


def program_facts(trigger: str, wallets: list[str], counters: list[str] | None = None) -> dict[str, Fact]:
    """A trigger's facts in a program: `member.wallets` and `member.counters` have a field per wallet
    and per counter of the program (a wallet's balance, a counter's count in the event's period, before
    the event), so the checker refuses an unknown id."""
    facts = FACTS[trigger]
    if "member" not in facts or not (wallets or counters):
        return facts
    fields = dict(facts["member"].fields)
    if wallets:
        fields["wallets"] = Fact("wallets", dict.fromkeys(wallets, "int"))
    if counters:
        fields["counters"] = Fact("counters", dict.fromkeys(counters, "int"))
    return {**facts, "member": Fact("member", fields)}


# A restricted item's `who` (program.Restricted): who the member is and when, not what the cart holds.
WHO_FACTS: dict[str, Fact] = {"member": MEMBER, "at": AT}
ITEM_VARIABLE = "i"  # an on_items expression's order item


# --- evaluation ------------------------------------------------------------------------------------

INT64 = 2**63


def _sum(values: list[Any]) -> int:
    """CEL's missing `sum()` of a list of integers, given to the library as a Python function (its
    Context takes them); the checker (rules/conditions) types it and costs it. A non-integer or a sum
    past int64 raises, which the evaluation turns into False (a condition) or nothing (an amount)."""
    if not all(type(v) is int for v in values):
        raise TypeError("sum() takes a list of integers")
    total = sum(values)
    if not -INT64 <= total < INT64:
        raise OverflowError("sum() past int64")
    return total


FUNCTIONS = {"sum": _sum}  # every context has them: adding them costs nothing measurable


class Compiled:
    """One expression, compiled once (the caller caches it with the program version)."""

    __slots__ = ("over_items", "program", "simple", "source")

    def __init__(self, source: str, program: Any, over_items: Any) -> None:
        self.source = source
        self.program = program  # None: the library refused it (tests False)
        # A fact against a literal (rules/simple_cel.py): answered in Python, without the library.
        self.simple = simple_cel.parse(source) if program is not None else None
        # An on_items expression once more as `order.items.map(i, ...)`: one evaluation answers every
        # item of the order, where binding `i` item by item converts each item again (~8 µs each).
        self.over_items = over_items


class Activation:
    """The facts of one event, converted once for every expression evaluated on it; or a view of
    them for one campaign (`for_campaign`), whose `campaign` facts are its own."""

    __slots__ = ("base", "campaign", "context", "facts", "items", "over_items", "resolving")

    def __init__(self, facts: dict[str, Any], base: Activation | None = None, campaign: Any = None) -> None:
        self.base = base or self
        self.facts = facts
        self.context = base.context if base else library().Context(facts, FUNCTIONS)
        self.items = base.items if base else {id(item): at for at, item in enumerate(_items(facts))}
        self.campaign = campaign  # None: the event's own `campaign` facts
        self.over_items: dict[Compiled, list[Any] | None] = {}  # each on_items' answers, None: it failed
        self.resolving: _Resolving | None = None  # on the base, built on first need

    def for_campaign(self, campaign: dict[str, Any]) -> Activation:
        return Activation(self.facts, self.base, campaign)

    def lookup(self, item: dict[str, Any] | None) -> Callable[[str], Any]:
        """A fact by name as the library's context gives it, for simple_cel."""
        return lambda name: item if name == ITEM_VARIABLE else self.view_facts(name)

    def view_facts(self, name: str) -> Any:
        return self.campaign if name == "campaign" and self.campaign is not None else self.facts.get(name)

    def context_for(self, item: dict[str, Any] | None) -> Any:
        """The facts with `i` bound to `item` and this view's `campaign`: on a second context that
        resolves both from Python. Binding them with add_variable, or a context per campaign,
        would convert every fact again each time (~0.5 ms on a 100-line order)."""
        base = self.base
        if base.resolving is None:
            base.resolving = _Resolving(base.facts)
        base.resolving.item, base.resolving.campaign = item, self.campaign
        return base.resolving.context


class _Resolving:
    __slots__ = ("campaign", "context", "item")

    def __init__(self, facts: dict[str, Any]) -> None:
        self.item: dict[str, Any] | None = None
        self.campaign: Any = None
        self.context = library().Context(facts, FUNCTIONS)
        self.context.set_variable_resolver(self.resolve)

    def resolve(self, name: str) -> Any:
        # None: the context's own variable (the event's `campaign` when the view has none)
        return self.item if name == ITEM_VARIABLE else self.campaign if name == "campaign" else None


def _items(facts: dict[str, Any]) -> list[dict[str, Any]]:
    return facts.get("order", {}).get("items", [])


def compile(source: str) -> Compiled:
    """Never raises: a source the library refuses (which `problems` refused at PUT) tests False."""
    try:
        program = library().compile(source)
    except Exception:
        return Compiled(source, None, None)
    over_items = None
    if ITEM_VARIABLE in program.variables():
        with contextlib.suppress(Exception):  # the newline ends a trailing // comment
            over_items = library().compile(f"order.items.map({ITEM_VARIABLE}, ({source}\n))")
    return Compiled(source, program, over_items)


def activation(facts: dict[str, Any]) -> Activation:
    return Activation(facts)


def test(compiled: Compiled, act: Activation, item: dict[str, Any] | None = None) -> bool:
    """True only when the expression evaluates to true; any error is False. `item`: the order item
    bound to `i` (one of the activation's order items is answered from one evaluation over them all)."""
    if compiled.program is None:
        return False
    if compiled.simple is not None:
        answer = simple_cel.answer(compiled.simple, act.lookup(item))
        if answer is not None:
            return answer
    try:
        context = act.context if act.campaign is None else act.context_for(None)
        if item is not None:
            at = act.items.get(id(item))
            if at is not None and compiled.over_items is not None:
                if compiled not in act.over_items:
                    act.over_items[compiled] = _answers(compiled.over_items, context)
                answers = act.over_items[compiled]
                if answers is not None:
                    return answers[at] is True
            # an item of its own, or an error on some item (which must not make the others False)
            context = act.context_for(item)
        return compiled.program.execute(context) is True
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # pyo3 turns a Rust panic into PanicException, a BaseException
        return False


def value(compiled: Compiled, act: Activation) -> Any:
    """What an expression evaluates to on the event (a computed amount), None on any error."""
    if compiled.program is None:
        return None
    try:
        return compiled.program.execute(act.context if act.campaign is None else act.context_for(None))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # as in `test`
        return None


def _answers(over_items: Any, context: Any) -> list[Any] | None:
    try:
        return over_items.execute(context)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        return None
