"""Exactly once under concurrency: parallel requests through the real handlers on DynamoDB Local."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.integration.conftest import Client

N = 12


def parallel(calls: list[Any]) -> list[tuple[int, Any]]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def enrol(api: Client, pid: str, member: str) -> None:
    status, body = api.call("POST", f"/programs/{pid}/members", {"member_id": member})
    assert status == 201, body


def full_ledger(api: Client, pid: str, member: str) -> list[dict[str, Any]]:
    entries, cursor = [], None
    while True:
        query = f"?limit=100&cursor={cursor}" if cursor else "?limit=100"
        status, page = api.call("GET", f"/programs/{pid}/members/{member}/ledger{query}")
        assert status == 200, page
        entries += page["entries"]
        cursor = page["next_cursor"]
        if not cursor:
            return entries


def assert_ledger_is_the_balance(api: Client, pid: str, member: str) -> int:
    """Entries, oldest first, chain: each balance_after is the running sum; the last is the balance."""
    entries = list(reversed(full_ledger(api, pid, member)))
    running = 0
    for entry in entries:
        running += entry["points"]
        assert entry["balance_after"] == running >= 0, entries
    status, view = api.call("GET", f"/programs/{pid}/members/{member}")
    assert status == 200 and view["points"]["balance"] == running
    assert len({e["entry_id"] for e in entries}) == len(entries)
    return running


def test_parallel_duplicate_orders_credit_once(api: Client, pid: str) -> None:
    enrol(api, pid, "m1")
    order = {"order_id": "o-dup", "amount_minor": 12345}
    results = parallel([lambda: api.call("POST", f"/programs/{pid}/members/m1/purchases", order)] * N)
    statuses = sorted(s for s, _ in results)
    assert statuses == [200] * (N - 1) + [201], results
    assert all(body == results[0][1] for _, body in results)
    assert results[0][1]["points_earned"] == 123 + 200
    assert assert_ledger_is_the_balance(api, pid, "m1") == 100 + 123 + 200
    assert [e["type"] for e in full_ledger(api, pid, "m1")].count("earn") == 1


def test_parallel_distinct_orders_on_one_member_all_credit(api: Client, pid: str) -> None:
    enrol(api, pid, "m1")

    def order(i: int) -> Any:
        return lambda: api.call(
            "POST", f"/programs/{pid}/members/m1/purchases", {"order_id": f"o-{i}", "amount_minor": 1000 + i}
        )

    results = parallel([order(i) for i in range(N)])
    assert [s for s, _ in results] == [201] * N, results
    earned = sum(body["points_earned"] for _, body in results)
    assert earned == N * 10 + 200  # 10 points each, one first-order bonus
    assert assert_ledger_is_the_balance(api, pid, "m1") == 100 + earned


def test_parallel_enrolments_welcome_once(api: Client, pid: str) -> None:
    results = parallel([lambda: api.call("POST", f"/programs/{pid}/members", {"member_id": "m1"})] * 8)
    assert sorted(s for s, _ in results) == [200] * 7 + [201], results
    assert [e["type"] for e in full_ledger(api, pid, "m1")] == ["welcome"]
    status, wallet = api.call("GET", f"/programs/{pid}/members/m1/coupons")
    assert status == 200 and len(wallet["coupons"]) == 1


def test_parallel_activities_respect_the_daily_cap(api: Client, pid: str) -> None:
    enrol(api, pid, "m1")

    def share(i: int) -> Any:
        return lambda: api.call(
            "POST", f"/programs/{pid}/members/m1/activities", {"activity_id": f"s-{i}", "type": "share"}
        )

    results = parallel([share(i) for i in range(8)])
    assert sorted(s for s, _ in results) == [201] * 3 + [409] * 5, results
    assert all(b["error"]["code"] == "limit_reached" for s, b in results if s == 409)
    assert assert_ledger_is_the_balance(api, pid, "m1") == 100 + 3 * 10


def test_parallel_refunds_never_exceed_the_order(api: Client, pid: str) -> None:
    enrol(api, pid, "m1")
    status, bought = api.call(
        "POST", f"/programs/{pid}/members/m1/purchases", {"order_id": "o1", "amount_minor": 100000}
    )
    assert status == 201 and bought["points_earned"] == 1200

    def refund(i: int) -> Any:
        body = {"refund_id": f"r-{i}", "order_id": "o1", "amount_minor": 30000}
        return lambda: api.call("POST", f"/programs/{pid}/members/m1/refunds", body)

    results = parallel([refund(i) for i in range(6)])
    assert sorted(s for s, _ in results) == [201] * 3 + [422] * 3, results
    reversed_total = sum(b["points_reversed"] for s, b in results if s == 201)
    assert reversed_total == 1200 * 90000 // 100000
    assert assert_ledger_is_the_balance(api, pid, "m1") == 100 + 1200 - reversed_total


def test_parallel_orders_on_distinct_members(api: Client, pid: str) -> None:
    for i in range(N):
        enrol(api, pid, f"m{i}")

    def order(i: int) -> Any:
        return lambda: api.call(
            "POST", f"/programs/{pid}/members/m{i}/purchases", {"order_id": f"o-{i}", "amount_minor": 5000}
        )

    results = parallel([order(i) for i in range(N)])
    assert [s for s, _ in results] == [201] * N
    for i in range(N):
        assert assert_ledger_is_the_balance(api, pid, f"m{i}") == 100 + 50 + 200
