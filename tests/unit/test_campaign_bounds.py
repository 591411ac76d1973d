"""Issue 27 item 3: an accepted program cannot make a purchase outrun its function. The work of one
event is bounded at PUT (rules/conditions.py: at most MAX_COST steps over the campaigns of a trigger),
and the most expensive program PUT accepts, on the most expensive purchase the contract allows (100
lines, every string at its longest), evaluates in under 100 ms, through rules/campaigns as a purchase
runs it."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty.errors import ProgramInvalid
from loyalty.member import CampaignUse, Profile
from loyalty.program import MAX_CAMPAIGNS, MAX_ORDER_ITEMS, MAX_TAGS, Program
from loyalty.rules import campaigns, conditions, earning, expressions
from loyalty.rules.expressions import FACTS, List
from loyalty.rules.posting import Change
from loyalty.usecases.programs import validate
from tests.support import ROOT, program

NOW = datetime(2026, 12, 3, 4, tzinfo=UTC)
PROGRAMS = ROOT / "programs"
LONGEST = 64  # an Id (program.Id): sku, category, store, channel, scene, tag
MEMBER = Profile(
    program_id="p",
    member_id="m",
    enrolled_at=NOW - timedelta(days=400),
    tier_id="diamond",
    orders_total=2,
    tags=[f"tag-{k:02d}".ljust(LONGEST, "t") for k in range(MAX_TAGS)],
)


def longest(prefix: str, k: int = 0) -> str:
    return f"{prefix}{k:02d}".ljust(LONGEST, "x")


def lines(categories: tuple[str, ...] = ("tea", "cake", "coffee", "gift")) -> list[dict[str, Any]]:
    """MAX_ORDER_ITEMS lines, each string at its longest; the last one's quantity is 1, the others' 2
    (an on_items dividing by `i.quantity - 1` errs on the last line only: every item answered twice)."""
    return [
        {
            "sku": longest(f"{categories[k % len(categories)]}-", k),
            "category": categories[k % len(categories)],
            "amount_minor": 10**10,
            "quantity": 1 if k == MAX_ORDER_ITEMS - 1 else 2,
        }
        for k in range(MAX_ORDER_ITEMS)
    ]


def document(campaigns_: list[dict[str, Any]]) -> dict[str, Any]:
    doc = program("demo")
    doc["campaigns"] = [{"id": f"c{k}", "name": f"c{k}", "trigger": "purchase"} | c for k, c in enumerate(campaigns_)]
    return doc


def evaluation_ms(doc: dict[str, Any], items: list[dict[str, Any]], runs: int = 5) -> tuple[float, int]:
    """The best of `runs` evaluations of the purchase's campaigns (rules/campaigns.run on a Change, as
    usecases/earning runs them), in ms of this process's CPU time (what the bound is about; other work
    on the shared machine then cannot fail it), and how many campaigns applied."""
    p = Program.model_validate(doc)
    factors = earning.multipliers(p, MEMBER, NOW, NOW.astimezone(p.zone).date())
    order = campaigns.order(p, 10**12, items, factors, longest("store-"), longest("app-"), longest("scene-"))
    campaigns.ready(p)  # compiled once per program version, as programs.load keeps it
    best, applied = float("inf"), 0
    for _ in range(runs):
        change = Change.start(p, MEMBER, NOW)
        event = campaigns.Event("purchase", NOW, "order:o1", order=order)
        started = time.process_time()
        applied = len(campaigns.run(change, event))
        best = min(best, time.process_time() - started)
    return best * 1000, applied


# Campaigns each reading `campaign` (so each converts the facts for itself, as rules/campaigns.run
# does) and holding on the order of `lines()`, over what the bound counts: a comprehension's copies,
# lists of items built per element, a Unicode regex compiled per item, nested comprehensions, reads of
# order.items, and on_items that err on the last line (every item answered twice).
OWN = "campaign.uses_by_member == 0 && "
HEAVY = {
    "filter": ({"when": OWN + "order.items.filter(a, a.quantity > 0).size() > 0"}),
    "lists": ({"when": OWN + "order.items.map(a, [a, a, a, a, a]).size() > 0"}),
    "regex": ({"when": OWN + "order.items.all(a, a.sku.matches('\\\\w'))"}),
    "nested": ({"when": OWN + "!order.items.exists(a, order.items.exists(b, b.sku == a.category))"}),
    "reads": ({"when": OWN + " && ".join(["order.items.size() > 0"] * 8)}),
    "on_items": (
        {"when": OWN + "true", "effects": [{"multiply_points": 2, "on_items": "100 / (i.quantity - 1) > 0"}] * 10}
    ),
    "compile": ({"when": OWN + "!member.tier.matches('\\\\w{20}')"}),
}


def at_the_bound(campaign: dict[str, Any]) -> list[dict[str, Any]]:
    """As many copies of `campaign` as PUT accepts, then as many cheap ones as fit up to MAX_CAMPAIGNS
    (each applying: what campaigns.run does per campaign costs too), found by the rule itself."""
    copies: list[dict[str, Any]] = []
    for one in ({"effects": [{"points": 1}]} | campaign, {"when": OWN + "true", "effects": [{"points": 1}]}):
        while len(copies) < MAX_CAMPAIGNS and not conditions.cost_problems(document([*copies, one])):
            copies.append(one)
    return copies


@pytest.mark.parametrize("heavy", HEAVY)
def test_the_most_expensive_program_put_accepts_evaluates_a_purchase_in_under_100_ms(heavy: str) -> None:
    copies = at_the_bound(HEAVY[heavy])
    doc = document(copies)
    validate(doc)  # PUT accepts it (ProgramInvalid lists every problem otherwise)
    ms, applied = evaluation_ms(doc, lines(("tea",)), runs=15)  # the best of 15: the machine is shared
    assert applied == len(copies)  # every campaign held: each evaluated in full
    assert ms < 100, f"{len(copies)} campaigns: {ms:.1f} ms"


def test_a_program_just_over_the_bound_is_refused_naming_the_campaign() -> None:
    copies = [c for c in at_the_bound(HEAVY["filter"]) if "filter" in c["when"]]
    assert len(copies) < MAX_CAMPAIGNS  # the cost stopped it, not the number of campaigns
    with pytest.raises(ProgramInvalid) as refused:
        validate(document([*copies, copies[0]]))
    (detail,) = refused.value.details
    assert detail["field"] == f"campaigns[{len(copies)}].when"
    message = detail["message"]
    assert message.startswith("costs ") and f"more than {conditions.MAX_COST:,}" in message, message
    assert "once per element of its list (order.items: 100" in message
    # an on_items is named as its own field
    with pytest.raises(ProgramInvalid) as refused:
        validate(
            document(
                [
                    *copies,
                    {
                        "when": "true",
                        "effects": [
                            {
                                "points_per_unit": {"points": 1, "unit_minor": 100},
                                "on_items": "order.items.exists(a, a.sku == i.sku)",
                            }
                        ],
                    },
                ]
            )
        )
    assert [d["field"] for d in refused.value.details] == [f"campaigns[{len(copies)}].effects[0].on_items"]


def test_each_trigger_is_an_event_of_its_own() -> None:
    # A purchase never runs the activity campaigns: each trigger has the whole bound.
    copies = [c for c in at_the_bound(HEAVY["filter"]) if "filter" in c["when"]]
    activity = {"trigger": "activity", "when": "member.tags.exists(a, member.tags.exists(b, a == b))"}
    assert conditions.cost_problems(document([*copies, *[activity] * 10])) == []


def test_the_templates_and_the_bench_programs_are_within_the_bound() -> None:
    from bench import campaigns as bench

    for path in sorted(PROGRAMS.glob("*.json")):
        assert conditions.cost_problems(json.loads(path.read_text())) == [], path.name
    for name, rules in bench.cases(NOW).items():  # 50 campaigns: the most a test program has
        assert conditions.cost_problems(bench.document(rules)) == [], name


def test_comprehensions_count_their_list_s_longest_and_nested_ones_multiply() -> None:
    cost = conditions.cost
    one = cost("order.items.exists(a, a.quantity > 1)", "purchase")
    nested = cost("order.items.exists(a, order.items.exists(b, b.quantity > a.quantity))", "purchase")
    assert MAX_ORDER_ITEMS * conditions.ITERATION < one < nested
    assert nested > MAX_ORDER_ITEMS * one
    tags = cost("member.tags.exists(t, t == 'vip')", "purchase")
    assert MAX_TAGS * conditions.ITERATION < tags < one  # member.tags: at most MAX_TAGS
    assert cost("[1, 2, 3].exists(x, x > 2)", "purchase") < tags
    # map() and filter() copy their result once per element: quadratic in the list's length
    assert cost("order.items.filter(a, a.quantity > 1).size() > 0", "purchase") > MAX_ORDER_ITEMS**2 // 2
    # a Unicode class compiles to a large automaton, on every call
    assert conditions.regex_cost("\\w{20}") > 20 * conditions.regex_cost("[a-z]")
    for fact in FACTS["purchase"].values():  # every list fact has its longest declared
        for field, kind in fact.fields.items():
            assert not isinstance(kind, List) or (fact.name, field) in conditions._LENGTHS


def test_campaigns_reading_campaign_convert_the_facts_once_per_event(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each such campaign converted the event's facts for itself: ~0.5-2 ms on a 100-line order, so
    # 100 of them took 200 ms before any expression ran. Now `campaign` is resolved from Python on a
    # second context of the same facts, converted once (which on_items answered alone share).
    library = expressions.library()
    contexts: list[object] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(library, name)

        def Context(self, *args: Any) -> Any:
            contexts.append(args)
            return library.Context(*args)

    monkeypatch.setattr(expressions, "library", Counting)
    member = MEMBER.model_copy(update={"campaigns": {"c1": CampaignUse(total=1), "c2": CampaignUse(total=1)}})
    doc = document(
        [{"when": OWN + "true", "effects": [{"points": 1}]}] * 2
        + [{"when": "campaign.uses_by_member == 1", "effects": [{"multiply_points": 2, "on_items": "1 / 0 > 0"}]}]
    )
    p = Program.model_validate(doc)
    order = campaigns.order(p, 10**12, lines(), {}, "s", "app")
    change = Change.start(p, member, NOW)
    applied = campaigns.run(change, campaigns.Event("purchase", NOW, "order:o1", order=order))
    # each saw its own uses (c1 and c2 have one); c2's condition held, but its on_items matched no line
    # (an error is False), so it gave nothing: no application
    assert [a.campaign_id for a in applied] == ["c0"]
    assert {"campaign_id": "c2", "reason": "condition not met"} in change.skipped
    assert len(contexts) == 2  # the event's facts, and once more with `campaign` and `i` resolved


def test_the_issue_s_program_is_refused() -> None:
    # 100 campaigns of nested comprehensions over the items: 34 s on a 500-line purchase.
    nested = "order.items.exists(a, order.items.exists(b, a.sku == b.sku && a.category != b.category))"
    found = conditions.cost_problems(document([{"when": nested, "effects": [{"points": 1}]}] * MAX_CAMPAIGNS))
    assert [d["field"] for d in found] == ["campaigns[1].when"]  # one fits: ~312,000 steps
