"""Campaigns through the real handlers (moto): PUT lists every problem, a purchase shows what each
campaign gave, every trigger runs its campaigns, the round trips stay at the floor, quotes and
campaign figures (issue 16)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.handlers.conftest import Api
from tests.handlers.test_cost import calls, measure  # noqa: F401 - the fixture counts botocore calls
from tests.support import program

M = "/programs/demo/members/m1"


def put(api: Api, *campaigns: dict[str, Any], **extra: Any) -> tuple[int, Any]:
    doc = program("demo")
    doc["coupons"]["tea-5"] = {"name": "5 off tea", "kind": "amount_off", "value_minor": 500, "valid_days": 7}
    doc["campaigns"] = list(campaigns)
    doc.update(extra)
    return api.call("programs", "PUT", "/programs/demo", doc)


def rule(cid: str, trigger: str = "purchase", **kw: Any) -> dict[str, Any]:
    return {"id": cid, "name": cid, "trigger": trigger, "effects": [{"points": 10}], **kw}


def test_put_lists_every_campaign_problem_with_its_field(api: Api) -> None:
    status, body = put(
        api,
        rule("a", when="member.tierr == 'gold' && order.amount_minor >= 'x'"),
        rule("b", trigger="enrolment", effects=[{"multiply_points": 2}]),
        rule("c", when="order.items.exists(i, i.category ==", limits={"budget": {"points": -1}}),
    )
    assert status == 422 and body["error"]["code"] == "program_invalid", body
    fields = [d["field"] for d in body["error"]["details"]]
    assert fields.count("campaigns[0].when") == 2  # the unknown fact and the type error, both
    assert "campaigns[1].effects[0].multiply_points" in fields
    assert "campaigns[2].limits.budget.points" in fields  # pydantic's, listed with the sound sections' CEL
    messages = " ".join(d["message"] for d in body["error"]["details"])
    assert "member.tierr" in messages


def test_an_expensive_expression_is_refused_with_its_bound(api: Api) -> None:
    deep = "(" * 30 + "true" + ")" * 30
    status, body = put(api, rule("deep", when=deep), rule("long", when=" || ".join(["true"] * 400)))
    assert status == 422, body
    by_field = {d["field"]: d["message"] for d in body["error"]["details"]}
    assert "nest" in by_field["campaigns[0].when"] and "1000" in by_field["campaigns[1].when"]


def test_a_purchase_shows_each_campaign_and_stays_one_read_one_transaction(api: Api, calls: Counter[str]) -> None:  # noqa: F811
    tea = rule(
        "tea-week",
        when="order.items.exists(i, i.category == 'tea')",
        effects=[{"multiply_points": 3, "on_items": "i.category == 'tea'"}, {"coupons": ["tea-5"]}, {"tag": "tea"}],
    )
    assert put(api, tea, *[rule(f"never-{n}", when="order.amount_minor > 99999999") for n in range(20)])[0] == 200
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    order = {"order_id": "o1", "amount_minor": 5000, "items": [{"sku": "t", "category": "tea", "amount_minor": 2000}]}
    assert measure(calls, api, "earn", "POST", f"{M}/purchases", order) == {"GetItem": 1, "TransactWriteItems": 1}
    status, again = api.call("earn", "POST", f"{M}/purchases", order)
    given = again["breakdown"]["campaigns"]
    assert status == 200 and given == [
        {
            "campaign_id": "tea-week",
            "points": 40,
            "coupons": ["tea-5"],
            "growth": 0,
            "tags": ["tea"],
            "untags": [],
            "multiplier": None,
        }
    ]
    assert api.call("members", "GET", M)[1]["tags"] == ["tea"]


def test_every_trigger_runs_its_campaigns(api: Api) -> None:
    triggers = ["enrolment", "activity", "redemption", "tier_changed", "refund"]
    assert put(api, *[rule(t, trigger=t, effects=[{"points": 1}, {"tag": t}]) for t in triggers])[0] == 200
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    status, checked_in = api.call("earn", "POST", f"{M}/activities", {"activity_id": "a1", "type": "check_in"})
    assert status == 201 and [c["campaign_id"] for c in checked_in["campaigns"]] == ["activity"]
    assert checked_in["points_earned"] == 5 + 1  # the check-in's, the campaign's
    api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 120000})  # gold
    api.call("earn", "POST", f"{M}/refunds", {"refund_id": "r1", "order_id": "o1", "amount_minor": 100})
    deduction = {"redemption_id": "x1", "deduction": {"order_id": "t1", "order_amount_minor": 10000, "points": 100}}
    assert api.call("redeem", "POST", f"{M}/redemptions", deduction)[0] == 201
    assert api.call("members", "GET", M)[1]["tags"] == sorted(triggers)


def test_a_quote_is_a_read_and_its_coupons_say_what_they_take_off(api: Api, calls: Counter[str]) -> None:  # noqa: F811
    assert put(api, rule("flat"))[0] == 200
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    order = {"order_id": "q1", "amount_minor": 6000}
    assert measure(calls, api, "earn", "POST", f"{M}/quotes", order) == {"GetItem": 1, "Query": 1}
    status, quoted = api.call("earn", "POST", f"{M}/quotes", order)
    assert status == 200 and quoted["points_earned"] == 60 + 200 + 10  # earn, first-order bonus, campaign
    assert [(c["template_id"], c["discount_minor"]) for c in quoted["usable_coupons"]] == [("welcome-10", 1000)]
    assert api.call("members", "GET", M)[1]["points"]["balance"] == 100  # the welcome points only


def test_campaign_figures_read_the_budget_where_it_is_taken(api: Api) -> None:
    budgeted = rule("flat", limits={"budget": {"points": 25, "members": 5}})
    assert put(api, budgeted)[0] == 200
    for m in ("m1", "m2", "m3"):
        api.call("enrol", "POST", "/programs/demo/members", {"member_id": m})
        api.call("earn", "POST", f"/programs/demo/members/{m}/purchases", {"order_id": f"o-{m}", "amount_minor": 100})
    status, figures = api.call("programs", "GET", "/programs/demo/campaigns/flat")
    assert status == 200 and figures["budget_left"] == {"points": 5, "members": 3}  # the third did not fit
    status, body = api.call("programs", "GET", "/programs/demo/campaigns/nope")
    assert status == 404 and body["error"]["details"][0]["field"] == "campaign_id"
