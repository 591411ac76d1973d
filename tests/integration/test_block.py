"""Blocked members and abuse limits on DynamoDB Local (issue 32, items 3 and 4): a blocked member gets
nothing from purchases, activities and sweeps and keeps what it had; N+5 parallel orders of one member
on one day under `max_orders_per_day: N` earn exactly N orders' points."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from local.dynamodb import client
from local.stack import Stack, put_program
from loyalty.schemas import Enrol, Purchase
from loyalty.store import Store
from loyalty.usecases import blocking, earning, members
from tests.integration.conftest import Client, lambda_client
from tests.integration.test_expiry_sweep import scheduled
from tests.integration.test_parallel import assert_ledger_is_the_balance, full_ledger
from tests.support import program

T0 = datetime(2026, 1, 10, 4, tzinfo=UTC)


def sweep(stack: Stack, function: str, at: datetime) -> None:
    reply = lambda_client(stack).invoke(FunctionName=function, Payload=json.dumps(scheduled(at)))
    assert "FunctionError" not in reply, reply["Payload"].read()


def held(api: Client, pid: str, member: str) -> tuple[list[Any], list[str]]:
    coupons = api.call("GET", f"/programs/{pid}/members/{member}/coupons")[1]["coupons"]
    return full_ledger(api, pid, member), sorted(c["source"] for c in coupons)


def test_blocked_members_get_nothing_from_purchases_activities_and_sweeps(stack: Stack, api: Client) -> None:
    pid = f"k-{uuid.uuid4().hex[:10]}"
    assert put_program(api.base, pid, program("demo"))[0] == 200
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    for member in ("m1", "m2"):  # m1 is blocked, m2 is not
        members.enrol(store, pid, Enrol(member_id=member), T0)
        earning.purchase(store, pid, member, Purchase(order_id=f"o-{member}", amount_minor=150000), T0.replace(day=12))
    blocking.set_blocked(store, pid, "m1", "chargebacks", T0.replace(day=13))
    before = held(api, pid, "m1")
    for path, body in (
        ("purchases", {"order_id": "o2", "amount_minor": 5000}),
        ("activities", {"activity_id": "a1", "type": "share"}),
    ):
        status, answer = api.call("POST", f"/programs/{pid}/members/m1/{path}", body)
        assert (status, answer["error"]["code"]) == (409, "member_blocked"), answer
    status, answer = api.as_member("m1")(
        "POST", f"/programs/{pid}/me/activities", {"activity_id": "a2", "type": "check_in"}
    )
    assert (status, answer["error"]["code"]) == (409, "member_blocked"), answer

    sweep(stack, "IssueBenefitsFunction", datetime(2026, 2, 1, 4, tzinfo=UTC))
    sweep(stack, "IssueBenefitsFunction", datetime(2026, 3, 1, 4, tzinfo=UTC))
    sweep(stack, "ExpirePointsFunction", datetime(2027, 2, 2, 4, tzinfo=UTC))  # January 2026's points are past
    assert "tier:gold:2026-02" in held(api, pid, "m2")[1]  # the sweeps ran
    assert any(e["type"] == "expire" for e in full_ledger(api, pid, "m2"))
    assert held(api, pid, "m1") == before  # nothing given, nothing taken: it keeps what it had
    assert store.get_member(pid, "m1").due_days == {}  # type: ignore[union-attr]

    blocking.set_blocked(store, pid, "m1", None, datetime(2027, 2, 3, 4, tzinfo=UTC))
    assert store.get_member(pid, "m1").due_days  # type: ignore[union-attr]  # its work is due again
    sweep(stack, "ExpirePointsFunction", datetime(2027, 2, 3, 5, tzinfo=UTC))
    assert [e["type"] for e in full_ledger(api, pid, "m1")].count("expire") == 1  # the missed work, once
    assert_ledger_is_the_balance(api, pid, "m1")


N = 5


def test_parallel_orders_past_the_daily_count_earn_exactly_n_orders_points(api: Client) -> None:
    pid = f"a-{uuid.uuid4().hex[:10]}"
    doc = program("demo")
    doc["campaigns"], doc["points"]["multipliers"] = [], []
    doc["lifecycle"].pop("first_order", None)
    doc["abuse"] = {"max_orders_per_day": N}
    assert put_program(api.base, pid, doc)[0] == 200
    assert api.call("POST", f"/programs/{pid}/members", {"member_id": "m1"})[0] == 201

    def buy(i: int) -> tuple[int, Any]:
        return api.call("POST", f"/programs/{pid}/members/m1/purchases", {"order_id": f"o{i}", "amount_minor": 10000})

    with ThreadPoolExecutor(max_workers=N + 5) as pool:
        results = list(pool.map(buy, range(N + 5)))
    assert all(status == 201 for status, _ in results), results
    earned = sorted(body["points_earned"] for _, body in results)
    assert earned == [0] * 5 + [100] * N
    status, view = api.call("GET", f"/programs/{pid}/members/m1")
    assert status == 200 and [f["kind"] for f in view["flags"]] == ["max_orders_per_day"]
    assert view["tier"]["progress"]["value"] == (N + 5) * 10000  # every order counts for spend
    assert assert_ledger_is_the_balance(api, pid, "m1") == 100 + N * 100  # the welcome and N orders
