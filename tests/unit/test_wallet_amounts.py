"""A wallet effect's computed amount (API.md "The rule engine's reach", Computed amounts):
`{"wallet": {"id": "stamps", "amount": "order.units"}, "max": 10}` is checked at PUT as points are,
evaluated on the event's facts (built for it), capped at the effect's `max`; 0 or less gives nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from loyalty.member import Profile
from loyalty.program import Program, problems
from loyalty.rules import campaigns, conditions
from tests.support import program
from tests.unit.test_amounts import act
from tests.unit.test_campaigns import buy

T0 = datetime(2026, 3, 11, 4, tzinfo=UTC)
CUPS = [
    {"sku": "latte", "category": "drinks", "amount_minor": 3000, "quantity": 2},
    {"sku": "cake", "category": "food", "amount_minor": 2000, "quantity": 3},
]


def stamps(*effects: dict[str, Any], trigger: str = "purchase", **kw: Any) -> dict[str, Any]:
    d = program("stamps")
    d["campaigns"] = [{"id": "units", "name": "units", "trigger": trigger, "effects": list(effects), **kw}]
    return d


def member() -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=T0)


def computed(source: str = "order.units", cap: int = 10, **kw: Any) -> dict[str, Any]:
    return {"wallet": {"id": "stamps", "amount": source}, "max": cap, **kw}


def test_a_computed_wallet_amount_is_evaluated_on_the_facts_and_capped() -> None:
    p = Program.model_validate(stamps(computed()))
    assert "order.units" in campaigns.reads(p, "purchase")  # the fact it reads is built for it
    change, [applied] = buy(p, member(), 12000, CUPS)
    assert applied.wallets == {"stamps": 5} and change.wallet_balance("stamps") == 5
    capped = Program.model_validate(stamps(computed(cap=4)))
    change, [applied] = buy(capped, member(), 12000, CUPS)
    assert applied.wallets == {"stamps": 4} and change.wallet_balance("stamps") == 4


def test_a_computed_wallet_amount_of_nothing_is_no_application() -> None:
    p = Program.model_validate(stamps(computed("order.units - 5"), {"tag": "stamped"}))
    change, applied = buy(p, member(), 12000, CUPS)  # 5 units: 0
    assert applied == [] and change.wallet_balance("stamps") == 0 and change.profile.tags == []
    assert change.profile.campaigns == {}  # no use counted
    odd = Program.model_validate(stamps(computed("10 / (order.units - 5)")))  # division by zero
    assert buy(odd, member(), 12000, CUPS)[1] == []


def test_with_on_items_the_computed_amount_is_per_matching_unit() -> None:
    # 2 a drink when the order has 5 units or more, capped at 3 a drink: 2 lattes -> 4 stamps on line 0.
    p = Program.model_validate(stamps(computed("order.units >= 5 ? 2 : 0", 3, on_items="i.category == 'drinks'")))
    _, [applied] = buy(p, member(), 12000, CUPS)
    assert applied.wallets == {"stamps": 4} and applied.wallet_lines == {"stamps": {0: 4}}


def test_a_computed_wallet_amount_on_an_activity_reads_its_campaigns_uses() -> None:
    d = stamps(computed("3 - campaign.uses_by_member", 5), trigger="activity")
    p = Program.model_validate(d)
    assert conditions.campaign_problems(d) == []
    profile, given = member(), []
    for _ in range(4):
        change, applied = act(p, profile, at=T0)
        given.append(applied[0].wallets["stamps"] if applied else 0)
        profile = change.profile
    assert given == [3, 2, 1, 0]


def test_put_names_every_problem_of_a_wallet_amount_at_once() -> None:
    d = program("stamps")
    d["campaigns"] = [
        {"id": f"c{k}", "name": "c", "trigger": "purchase", "effects": [effect]}
        for k, effect in enumerate(
            [
                computed("order.units > 2"),  # a bool
                {"wallet": {"id": "stamps", "amount": "order.units"}},  # no max
                {"wallet": {"id": "stamps", "amount": 2}, "max": 5},  # max without an expression
                computed("member.nope"),  # an unknown fact
                {"wallet": {"id": "stamps", "amount": "order.units", "max": 5}},  # max goes beside wallet
            ]
        )
    ]
    found = {f["field"]: f["message"] for f in conditions.campaign_problems(d)}
    assert found["campaigns[0].effects[0].wallet.amount"] == "must be an integer amount (int), not bool"
    assert "unknown fact member.nope" in found["campaigns[3].effects[0].wallet.amount"]
    assert set(found) == {"campaigns[0].effects[0].wallet.amount", "campaigns[3].effects[0].wallet.amount"}
    del d["campaigns"][4]
    cross = {f["field"] for f in problems(Program.model_validate(d))}
    assert cross == {"campaigns[1].effects[0].max", "campaigns[2].effects[0].max"}


def test_a_wallet_amount_as_sent_is_checked_by_its_own_bounds() -> None:
    for bad in (0, 10**6 + 1, True, "", {"max": 5}):  # and `max` goes beside `wallet`, not in it
        wallet = {"id": "stamps", "amount": "order.units", **bad} if isinstance(bad, dict) else {"amount": bad}
        d = stamps({"wallet": {"id": "stamps", **wallet}, "max": 5})
        try:
            Program.model_validate(d)
        except ValidationError as error:
            [e] = error.errors()
            assert e["loc"][-2:] == ("wallet", "max" if isinstance(bad, dict) else "amount"), bad
        else:
            raise AssertionError(bad)
