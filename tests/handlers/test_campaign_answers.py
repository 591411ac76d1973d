"""What a purchase, a refund and a quote answer about campaigns (issue 28 items 2 and 3), through the
real handlers (moto): a quote answers exactly what the purchase with the same body gives (a spent
budget, a campaign its tier change sets off), and a write's response tells all that it did."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from loyalty import clock
from tests.handlers.conftest import Api
from tests.handlers.test_cost import calls, measure  # noqa: F401 - the fixture counts botocore calls
from tests.support import program

P = "/programs/demo/members"


@pytest.fixture(autouse=True)
def still(monkeypatch: pytest.MonkeyPatch) -> None:
    """One instant for the quote and the purchase after it, so their coupons' dates agree too."""
    now = datetime.now(UTC).replace(microsecond=0)
    monkeypatch.setattr(clock, "now", lambda: now)


def put(api: Api, *campaigns: dict[str, Any], gift_budget: int | None = None) -> None:
    doc = program("demo")
    doc["campaigns"] = list(campaigns)
    if gift_budget is not None:
        doc["tiers"]["levels"][1]["on_upgrade"] = {"points": 30, "budget": gift_budget}
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200


def rule(cid: str, trigger: str = "purchase", **kw: Any) -> dict[str, Any]:
    return {"id": cid, "name": cid, "trigger": trigger, "effects": [{"points": 10}], **kw}


def enrol(api: Api, member: str) -> None:
    assert api.call("enrol", "POST", P, {"member_id": member})[0] == 201


def quote_then_buy(api: Api, member: str, order: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    status, quoted = api.call("earn", "POST", f"{P}/{member}/quotes", order)
    assert status == 200, quoted
    status, bought = api.call("earn", "POST", f"{P}/{member}/purchases", order)
    assert status == 201, bought
    quoted.pop("usable_coupons")
    quoted.pop("campaigns_skipped")  # a quote's own (tests/handlers/test_campaign_explanations.py)
    return quoted, bought


def balance(api: Api, member: str) -> int:
    return api.call("members", "GET", f"{P}/{member}")[1]["points"]["balance"]


def test_a_quote_leaves_out_a_campaign_whose_budget_is_spent(api: Api, calls: Counter[str]) -> None:  # noqa: F811
    put(api, rule("flat", limits={"budget": {"points": 15}}), rule("free"))
    enrol(api, "m1")
    enrol(api, "m2")
    first, bought = quote_then_buy(api, "m1", {"order_id": "o1", "amount_minor": 6000})
    assert first == bought and [c["campaign_id"] for c in bought["breakdown"]["campaigns"]] == ["flat", "free"]
    order = {"order_id": "o2", "amount_minor": 6000}
    # The budgets it reads come with the profile: one BatchGetItem, beside the wallet's Query.
    assert measure(calls, api, "earn", "POST", f"{P}/m2/quotes", order) == {"BatchGetItem": 1, "Query": 1}
    quoted, bought = quote_then_buy(api, "m2", order)  # 5 points left of 15: "flat" no longer fits
    assert quoted == bought and [c["campaign_id"] for c in bought["breakdown"]["campaigns"]] == ["free"]
    assert bought["points_earned"] == 60 + 200 + 10


def test_a_quote_leaves_out_an_upgrade_gift_whose_budget_is_spent(api: Api) -> None:
    put(api, gift_budget=1)
    for member in ("m1", "m2"):
        enrol(api, member)
        quoted, bought = quote_then_buy(api, member, {"order_id": f"o-{member}", "amount_minor": 120000})
        assert quoted == bought and bought["tier"] == "gold"
    assert bought["points_earned"] == 1200 + 200  # the order at star's 1x, the first-order bonus, no gift left


def test_a_campaign_the_purchase_sets_off_by_its_tier_change_is_in_its_answer_and_its_quote(api: Api) -> None:
    gold = rule("gold-up", "tier_changed", when="member.tier == 'gold'", effects=[{"points": 50}, {"growth": 7}])
    put(api, gold)
    enrol(api, "m1")
    quoted, bought = quote_then_buy(api, "m1", {"order_id": "o1", "amount_minor": 120000})
    assert quoted == bought
    given = {c["campaign_id"]: c for c in bought["breakdown"]["campaigns"]}
    assert given["gold-up"]["points"] == 50 and given["gold-up"]["growth"] == 7
    assert bought["points_earned"] == 1200 + 200 + 50  # the order (at star's 1x), first order, the campaign
    assert bought["balance"] == balance(api, "m1") == 100 + 1200 + 200 + 50
    assert bought["growth"] == 7  # the campaign's: the demo program gives no growth per order


def test_a_refund_answers_the_campaigns_it_set_off(api: Api) -> None:
    star = rule("back-to-star", "tier_changed", when="member.tier == 'star'", effects=[{"points": 5}])
    put(api, star, rule("sorry", "refund", effects=[{"points": 3}]))
    enrol(api, "m1")
    api.call("earn", "POST", f"{P}/m1/purchases", {"order_id": "o1", "amount_minor": 120000})
    body = {"refund_id": "r1", "order_id": "o1", "amount_minor": 120000}
    status, refunded = api.call("earn", "POST", f"{P}/m1/refunds", body)
    assert status == 201 and refunded["tier"] == "star" and refunded["tier_changed"] is True
    assert [(c["campaign_id"], c["points"]) for c in refunded["campaigns"]] == [("sorry", 3), ("back-to-star", 5)]
    assert refunded["balance"] == balance(api, "m1")


def test_an_activity_answers_the_campaigns_its_tier_change_set_off(api: Api) -> None:
    doc = program("demo")
    doc["tiers"] = {
        **doc["tiers"],
        "metric": "growth",
        "growth": {"per_unit_minor": 100, "activities": {"check_in": 5}},
    }
    doc["tiers"]["levels"][1]["threshold"] = 5
    doc["campaigns"] = [rule("gold-up", "tier_changed", effects=[{"points": 50}])]
    status, body = api.call("programs", "PUT", "/programs/demo", doc)
    assert status == 200, body
    enrol(api, "m1")
    status, done = api.call("earn", "POST", f"{P}/m1/activities", {"activity_id": "a1", "type": "check_in"})
    assert status == 201 and done["tier"] == "gold", done
    assert [c["campaign_id"] for c in done["campaigns"]] == ["gold-up"]
    assert done["points_earned"] == 5 + 50 and done["balance"] == balance(api, "m1")
