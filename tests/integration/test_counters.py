"""Counters on DynamoDB Local through the local runtime: parallel purchases of one member each count
once (the count lives on the profile, guarded by its version), a campaign on the count applies exactly
once, repeats count nothing, and parallel refunds take back exactly what their orders counted."""

from __future__ import annotations

import uuid

from local.stack import put_program
from tests.integration.conftest import Client
from tests.integration.test_parallel import parallel
from tests.support import program

N = 12


def fresh(api: Client) -> str:
    """The combined template: orders per month, orders of 300.00 or more; 200 points on the 5th order."""
    pid = f"cnt-{uuid.uuid4().hex[:10]}"
    status, body = put_program(api.base, pid, program("combined"))
    assert status == 200, body
    status, body = api.call("POST", f"/programs/{pid}/members", {"member_id": "m1"})
    assert status == 201, body
    return pid


def counters(api: Client, pid: str) -> dict[str, int]:
    status, view = api.call("GET", f"/programs/{pid}/members/m1")
    assert status == 200, view
    return view["counters"]


def test_n_parallel_purchases_of_one_member_leave_the_counter_at_n(api: Client) -> None:
    pid = fresh(api)

    def order(i: int, amount: int = 30000) -> object:
        body = {"order_id": f"o{i}", "amount_minor": amount}
        return lambda: api.call("POST", f"/programs/{pid}/members/m1/purchases", body)

    results = parallel([order(i) for i in range(N)] + [order(0)] * 4)  # and repeats of o0
    assert sorted(s for s, _ in results) == [200] * 4 + [201] * N, results
    assert counters(api, pid) == {"orders_month": N, "big_orders": N}
    fifth = [
        b
        for s, b in results
        if s == 201 and any(c["campaign_id"] == "fifth-order-this-month" for c in b["breakdown"]["campaigns"])
    ]
    third = [
        b
        for s, b in results
        if s == 201 and any(c["campaign_id"] == "third-big-order" for c in b["breakdown"]["campaigns"])
    ]
    assert len(fifth) == 1 and len(third) == 1  # each read a count no other order read

    def refund(i: int) -> object:
        body = {"refund_id": f"r{i}", "order_id": f"o{i}", "amount_minor": 30000}
        return lambda: api.call("POST", f"/programs/{pid}/members/m1/refunds", body)

    back = parallel([refund(i) for i in range(N // 2)])
    assert [s for s, _ in back] == [201] * (N // 2), back
    assert counters(api, pid) == {"orders_month": N - N // 2, "big_orders": N - N // 2}
