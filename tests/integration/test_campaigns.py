"""Campaigns end to end on DynamoDB Local through the local runtime: budgets and per-member limits
hold under parallel requests (never overspent), the figures count what was given, refunds reverse a
campaign's points in proportion, and a quote writes nothing (issue 16)."""

from __future__ import annotations

import uuid
from typing import Any

from local.dynamodb import client
from local.stack import Stack, put_program
from tests.integration.conftest import Client
from tests.integration.test_parallel import parallel
from tests.support import program

N = 50


def fresh(api: Client, *campaigns: dict[str, Any]) -> str:
    doc = program("demo")
    doc["coupons"]["tea-5"] = {"name": "5 off tea", "kind": "amount_off", "value_minor": 500, "valid_days": 7}
    doc["campaigns"] = list(campaigns)
    pid = f"cmp-{uuid.uuid4().hex[:10]}"
    status, body = put_program(api.base, pid, doc)
    assert status == 200, body
    return pid


def enrol(api: Client, pid: str, n: int) -> None:
    calls = [lambda i=i: api.call("POST", f"/programs/{pid}/members", {"member_id": f"m{i}"}) for i in range(n)]
    assert [s for s, _ in parallel(calls)] == [201] * n


def buy(api: Client, pid: str, member: str, order: str, amount: int = 5000) -> Any:
    body = {"order_id": order, "amount_minor": amount, "items": [{"sku": "t", "category": "tea", "amount_minor": 2000}]}
    return lambda: api.call("POST", f"/programs/{pid}/members/{member}/purchases", body)


def all_items(stack: Stack) -> list[dict[str, Any]]:
    """Every item but the health counters, which the stream keeps adding from earlier writes."""
    ddb = client(stack.ddb.endpoint)
    pages = ddb.get_paginator("scan").paginate(TableName="LoyaltyTable")  # test-only inspection
    items = (i for page in pages for i in page["Items"] if not i["pk"]["S"].startswith(("STATS#", "SEEN#")))
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def test_fifty_members_in_parallel_against_a_budget_of_ten_coupons(stack: Stack, api: Client) -> None:
    tea = {
        "id": "tea-week",
        "name": "tea week",
        "trigger": "purchase",
        "when": "order.items.exists(i, i.category == 'tea')",
        "effects": [{"coupons": ["tea-5"]}, {"multiply_points": 3, "on_items": "i.category == 'tea'"}],
        "limits": {"budget": {"coupons": 10}},
    }
    pid = fresh(api, tea)
    enrol(api, pid, N)
    results = parallel([buy(api, pid, f"m{i}", f"o{i}") for i in range(N)])
    assert [s for s, _ in results] == [201] * N, results
    given = [b for _, b in results if b["breakdown"]["campaigns"]]
    assert len(given) == 10  # exactly the budget: the other 40 purchases went through without it
    assert all(b["breakdown"]["campaigns"][0]["points"] == 40 for b in given)  # 20 tea points, 3x: 40 more
    assert sum(len(b["coupons"]) for _, b in results) == 10
    status, figures = api.call("GET", f"/programs/{pid}/campaigns/tea-week")
    assert status == 200 and figures["budget_left"] == {"coupons": 0}


def test_a_member_limit_holds_against_parallel_purchases_of_one_member(stack: Stack, api: Client) -> None:
    once_a_day = {
        "id": "daily",
        "name": "daily bonus",
        "trigger": "purchase",
        "effects": [{"points": 7}],
        "limits": {"per_member": {"count": 1, "per": "day"}},
    }
    pid = fresh(api, once_a_day)
    enrol(api, pid, 1)
    results = parallel([buy(api, pid, "m0", f"o{i}") for i in range(8)])
    assert [s for s, _ in results] == [201] * 8
    assert sum(1 for _, b in results if b["breakdown"]["campaigns"]) == 1


def test_a_refund_reverses_campaign_points_in_proportion(stack: Stack, api: Client) -> None:
    double = {"id": "double", "name": "double", "trigger": "purchase", "effects": [{"multiply_points": 2}]}
    pid = fresh(api, double)
    enrol(api, pid, 1)
    status, bought = buy(api, pid, "m0", "o1", 10000)()
    # 100 points, doubled (+100), and the first-order bonus (200)
    assert status == 201 and bought["points_earned"] == 400 and bought["breakdown"]["campaigns"][0]["points"] == 100
    refund = {"refund_id": "r1", "order_id": "o1", "amount_minor": 5000}
    status, back = api.call("POST", f"/programs/{pid}/members/m0/refunds", refund)
    assert status == 201 and back["points_reversed"] == 200  # half of all the order gave, the campaign's too


def test_a_refund_campaign_sees_the_refunded_orders_items(stack: Stack, api: Client) -> None:
    tea = {"id": "tea-back", "name": "tea", "trigger": "refund", "effects": [{"tag": "tea"}]}
    pid = fresh(api, tea | {"when": "order.items.exists(i, i.category == 'tea') && order.amount_minor == 700"})
    enrol(api, pid, 1)
    assert buy(api, pid, "m0", "o1")()[0] == 201  # its lines kept on the order's reference in DynamoDB
    refund = {"refund_id": "r1", "order_id": "o1", "amount_minor": 700}
    status, back = api.call("POST", f"/programs/{pid}/members/m0/refunds", refund)
    assert status == 201 and [c["campaign_id"] for c in back["campaigns"]] == ["tea-back"], back


def test_a_quote_writes_nothing(stack: Stack, api: Client) -> None:
    pid = fresh(api, {"id": "flat", "name": "flat", "trigger": "purchase", "effects": [{"points": 5}]})
    enrol(api, pid, 1)
    before = all_items(stack)
    status, quoted = api.call("POST", f"/programs/{pid}/members/m0/quotes", {"order_id": "q1", "amount_minor": 6000})
    assert status == 200, quoted
    assert quoted["points_earned"] == 60 + 200 + 5 and quoted["breakdown"]["campaigns"][0]["campaign_id"] == "flat"
    assert [c["template_id"] for c in quoted["usable_coupons"]] == ["welcome-10"]  # 10 off 50: usable on 60.00
    assert all_items(stack) == before


def test_a_quote_reads_the_budget_and_answers_what_the_purchase_gives(stack: Stack, api: Client) -> None:
    """Issue 28.2 on DynamoDB Local: the profile and the budgets in one BatchGetItem; with 5 points
    left of 15, neither the quote nor the purchase gives the campaign's 10."""
    flat = {"id": "flat", "name": "flat", "trigger": "purchase", "effects": [{"points": 10}]}
    pid = fresh(api, {**flat, "limits": {"budget": {"points": 15}}})
    enrol(api, pid, 2)
    for member in ("m0", "m1"):
        order = {"order_id": f"o-{member}", "amount_minor": 6000}
        status, quoted = api.call("POST", f"/programs/{pid}/members/{member}/quotes", order)
        assert status == 200, quoted
        status, bought = api.call("POST", f"/programs/{pid}/members/{member}/purchases", order)
        assert status == 201, bought
        assert {k: v for k, v in quoted.items() if k not in ("usable_coupons", "campaigns_skipped")} == bought
    assert bought["points_earned"] == 60 + 200 and bought["breakdown"]["campaigns"] == []
    assert quoted["campaigns_skipped"] == [{"campaign_id": "flat", "reason": "budget spent"}]
