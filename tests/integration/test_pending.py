"""Pending points on DynamoDB Local (issue 30): one points run releases what 1,000 members have
pending, reading each member's index item once; a repeated run releases nothing twice; a release
racing the member's own writes, and refunds racing each other inside the window, count once."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.dynamodb import client
from loyalty.errors import LoyaltyError
from loyalty.schemas import Enrol, Purchase, Redeem, Refund
from loyalty.store import Store
from loyalty.usecases import earning, members, programs, scheduler, spending, sweeps
from tests.integration.ddb_local import DynamoDBLocal
from tests.support import program

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 3, 4, tzinfo=UTC)  # noon in Shanghai: a 7-day window ends on 2026-12-10 (local)
THE_DAY = datetime(2026, 12, 9, 16, 0, tzinfo=UTC)  # 00:00 on 12-10 local
ORDER = 120000  # 1200 earned + 200 first-order bonus, pending


@pytest.fixture
def store(ddb: DynamoDBLocal) -> Store:
    return Store("LoyaltyTable", client(ddb.endpoint))


def windowed(store: Store) -> str:
    pid = f"p-{uuid.uuid4().hex[:10]}"
    doc = program("demo")
    doc["points"]["pending_days"] = 7
    programs.save(store, pid, doc)
    return pid


def bought(store: Store, pid: str, mid: str) -> None:
    members.enrol(store, pid, Enrol(member_id=mid), T0)
    earning.purchase(store, pid, mid, Purchase(order_id=f"o-{mid}", amount_minor=ORDER), T0)


def counted(store: Store, run: Callable[[], Any]) -> Counter[str]:
    """The index items a run reads (Query answers) and the transactions it commits."""
    seen: Counter[str] = Counter()

    def count(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query":
            seen["queries"] += 1
            seen["index_items"] += parsed.get("Count", 0)
        seen[model.name] += 1

    store.client.meta.events.register("after-call.dynamodb", count)
    try:
        run()
    finally:
        store.client.meta.events.unregister("after-call.dynamodb", count)
    return seen


def points_run(store: Store, at: datetime) -> dict[str, int]:
    total: Counter[str] = Counter()
    for item in scheduler.plan(at, ["expire", "remind"]):
        total.update(scheduler.work(store, item, lambda: 900)[0])
    return dict(total)


def balance_is_the_ledger(store: Store, pid: str, mid: str) -> list[Any]:
    profile = store.get_member(pid, mid)
    entries, _ = store.ledger(pid, mid, 1000, None)
    assert profile is not None and profile.balance == sum(e.points for e in entries)
    return entries


def test_one_run_releases_a_thousand_members_reading_each_index_item_once(store: Store) -> None:
    pid = windowed(store)
    ids = [f"m{i:04d}" for i in range(1000)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda mid: bought(store, pid, mid), ids))
    assert store.get_member(pid, "m0000").pending  # type: ignore[union-attr]

    before: dict[str, int] = {}
    reads = counted(store, lambda: before.update(points_run(store, THE_DAY - timedelta(minutes=1))))
    assert before.get("members_settled", 0) == 0 and reads["index_items"] == 0  # not due the day before

    stats: dict[str, int] = {}
    reads = counted(store, lambda: stats.update(points_run(store, THE_DAY)))
    assert stats["members_settled"] == 1000
    assert reads["index_items"] / 1000 <= 1.01, reads
    assert reads["TransactWriteItems"] == 1000, reads  # one write a member
    for mid in ids[:20]:
        entries = balance_is_the_ledger(store, pid, mid)
        assert [(e.type, e.points, e.ref) for e in entries[:2]] == [
            ("bonus", 200, f"order:o-{mid}"),
            ("earn", 1200, f"order:o-{mid}"),
        ]
    again = counted(store, lambda: points_run(store, THE_DAY))  # the same run: nothing left, nothing written
    assert again["index_items"] == 0 and again["TransactWriteItems"] == 0, again


def test_a_release_racing_the_members_own_writes_credits_once(store: Store) -> None:
    pid = windowed(store)
    for mid in ("a", "b", "c", "d"):
        bought(store, pid, mid)
    program_ = programs.load(store, pid)

    def redeem(mid: str, n: int) -> str | None:
        try:
            spending.redeem(store, pid, mid, Redeem(redemption_id=f"r-{mid}-{n}", reward_id="coupon-5"), THE_DAY)
        except LoyaltyError:
            return None  # contended past the retries: an answer too (503, nothing written)
        return mid

    calls: list[Callable[[], Any]] = [
        lambda mid=mid: sweeps.settle(store, program_, pid, mid, THE_DAY) for mid in ("a", "b", "c", "d")
    ]
    calls += [lambda mid=mid, n=n: redeem(mid, n) for mid in ("a", "b", "c", "d") for n in range(3)]
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        redeemed = Counter(r for r in pool.map(lambda call: call(), calls) if isinstance(r, str))
    for mid in ("a", "b", "c", "d"):
        entries = balance_is_the_ledger(store, pid, mid)
        assert [e.type for e in entries if e.ref == f"order:o-{mid}"] == ["bonus", "earn"]  # released once
        assert [e.type for e in entries].count("redeem") == redeemed[mid]
        assert entries[0].balance_after == 1500 - 500 * redeemed[mid]
        assert store.get_member(pid, mid).pending == []  # type: ignore[union-attr]


def test_parallel_refunds_inside_the_window_cancel_no_more_than_the_order_gave(store: Store) -> None:
    pid = windowed(store)
    bought(store, pid, "m1")

    def refund(n: int) -> int:
        body = Refund(refund_id=f"r{n}", order_id="o-m1", amount_minor=30000)
        try:
            return earning.refund(store, pid, "m1", body, T0 + timedelta(days=1)).result.pending_cancelled
        except LoyaltyError:
            return 0  # more than is left to refund: 422

    with ThreadPoolExecutor(max_workers=6) as pool:
        cancelled = list(pool.map(refund, range(6)))
    profile = store.get_member(pid, "m1")
    assert profile is not None and profile.balance == 100
    # Each refund of a quarter cancels a quarter; what is left pending is exactly what none cancelled.
    assert set(cancelled) <= {0, 350} and sum(cancelled) + sum(p.points for p in profile.pending) == 1400
    assert cancelled.count(350) <= 4
    assert [e.type for e in balance_is_the_ledger(store, pid, "m1")] == ["welcome"]


def test_parallel_and_repeated_partial_refunds_cancel_each_pending_part_exactly(store: Store) -> None:
    """Issue 30: earn 100, first order 200 and a tea campaign's 90 pending; three quarter refunds, each
    sent twice at once, leave a quarter of the base and what the campaign's cumulative share leaves."""
    pid = f"p-{uuid.uuid4().hex[:10]}"
    doc = program("demo")
    doc["points"]["pending_days"] = 7
    tea = {"points_per_unit": {"points": 15, "unit_minor": 1000}, "on_items": "i.category == 'tea'"}
    doc["campaigns"] = [{"id": "tea", "name": "tea", "trigger": "purchase", "effects": [tea]}]
    programs.save(store, pid, doc)
    members.enrol(store, pid, Enrol(member_id="m1"), T0)
    items = [
        {"sku": "green", "category": "tea", "amount_minor": 6000},
        {"sku": "cake", "category": "bakery", "amount_minor": 4000},
    ]
    order = Purchase.model_validate({"order_id": "q2o1", "amount_minor": 10000, "items": items})
    assert earning.purchase(store, pid, "m1", order, T0).result.points_earned == 390

    def refund(n: int) -> int:
        body = Refund(refund_id=f"r{n % 3}", order_id="q2o1", amount_minor=2500)
        return earning.refund(store, pid, "m1", body, T0 + timedelta(days=1)).result.pending_cancelled

    with ThreadPoolExecutor(max_workers=6) as pool:
        cancelled = list(pool.map(refund, range(6)))
    assert sum(cancelled) == 2 * (390 - 75 - 23)  # every refund answered twice the same
    profile = store.get_member(pid, "m1")
    assert profile is not None
    assert sorted((p.type, p.reason, p.points) for p in profile.pending) == [
        ("bonus", "campaign:tea", 23),  # 90 less 67 (three quarters, rounded down)
        ("bonus", "first_order", 50),
        ("earn", None, 25),
    ]
    points_run(store, THE_DAY)
    entries = balance_is_the_ledger(store, pid, "m1")
    assert sorted((e.type, e.reason, e.points) for e in entries if e.type != "welcome") == [
        ("bonus", "campaign:tea", 23),
        ("bonus", "first_order", 50),
        ("earn", None, 25),
    ]
