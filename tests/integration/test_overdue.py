"""Overdue scheduled work on DynamoDB Local: a run at T settles every member due on or before T,
however late, at a cost that follows the members due (issues 14 and 19), and the one-off migration
of DUE items written in the per-day layout."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.dynamodb import client
from local.stack import Stack, put_program
from loyalty.schemas import Enrol
from loyalty.store import DUE_SHARDS, Store, due_shard
from loyalty.usecases import members, scheduler
from tests.integration.conftest import Client, lambda_client
from tests.integration.test_expiry_sweep import scheduled
from tests.support import program


def invoke(stack: Stack, function: str, payload: dict[str, Any]) -> dict[str, Any]:
    reply = lambda_client(stack).invoke(FunctionName=function, Payload=json.dumps(payload))
    assert "FunctionError" not in reply, reply["Payload"].read()
    return json.loads(reply["Payload"].read())


def fresh(api: Client, doc: dict[str, Any] | None = None) -> str:
    pid = f"o-{uuid.uuid4().hex[:10]}"
    assert put_program(api.base, pid, doc or program("demo"))[0] == 200
    return pid


def test_a_member_migrated_with_old_history_gets_the_recall_offer_from_the_next_sweep(
    stack: Stack, api: Client
) -> None:
    pid = fresh(api)
    now = datetime.now(UTC)
    enrolled = {"member_id": "m1", "enrolled_at": (now - timedelta(days=200)).isoformat()}
    assert api.call("POST", f"/programs/{pid}/members", enrolled)[0] == 201
    order = {"order_id": f"{pid}-o1", "amount_minor": 5000, "paid_at": (now - timedelta(days=120)).isoformat()}
    assert api.call("POST", f"/programs/{pid}/members/m1/purchases", order)[0] == 201

    invoke(stack, "ChurnSweepFunction", scheduled(now))  # churn was due 90 days ago, recall 30 days ago
    view = api.call("GET", f"/programs/{pid}/members/m1")[1]
    coupons = api.call("GET", f"/programs/{pid}/members/m1/coupons")[1]["coupons"]
    assert view["lifecycle_stage"] == "recalled"
    assert [c["source"] for c in coupons if c["source"].startswith("recall:")]
    before = api.call("GET", f"/programs/{pid}/members/m1/coupons")[1]
    invoke(stack, "ChurnSweepFunction", scheduled(now))  # the same time again changes nothing
    assert api.call("GET", f"/programs/{pid}/members/m1/coupons")[1] == before


def test_a_scheduler_outage_of_weeks_loses_nothing(stack: Stack, api: Client) -> None:
    doc = program("points-only")
    doc["points"]["expiry"] = {"policy": "rolling_months", "months": 1}
    pid = fresh(api, doc)
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    t0 = datetime(2025, 1, 10, 15, tzinfo=UTC)  # welcome points expire 2025-02-28, due on 2025-03-01
    for m in ("m1", "m2", "m3"):
        members.enrol(store, pid, Enrol(member_id=m), t0)
    outage_over = datetime(2025, 4, 20, 12, tzinfo=UTC)  # 50 days after the due day
    invoke(stack, "ExpirePointsFunction", scheduled(outage_over))
    for m in ("m1", "m2", "m3"):
        view = api.call("GET", f"/programs/{pid}/members/{m}")[1]
        entries = api.call("GET", f"/programs/{pid}/members/{m}/ledger")[1]["entries"]
        assert view["points"]["balance"] == 0 == sum(e["points"] for e in entries)
        assert [e["type"] for e in entries] == ["expire", "welcome"]
    invoke(stack, "ExpirePointsFunction", scheduled(outage_over))
    assert len(api.call("GET", f"/programs/{pid}/members/m1/ledger")[1]["entries"]) == 2


def test_a_run_reads_only_the_members_due_whatever_the_programs_and_days(
    stack: Stack, api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: 200 programs, one member due (and one not yet due): the invoke returns in seconds,
    and the run's index reads are a Query per shard plus the members due."""
    doc = program("points-only")
    doc["points"]["expiry"] = {"policy": "rolling_months", "months": 1}
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    pids = [fresh(api, doc) for _ in range(200)]
    members.enrol(store, pids[0], Enrol(member_id="due"), datetime(2024, 1, 10, tzinfo=UTC))
    members.enrol(store, pids[1], Enrol(member_id="later"), datetime(2024, 5, 10, tzinfo=UTC))
    at = datetime(2024, 4, 2, 12, tzinfo=UTC)

    started = time.monotonic()
    planned = invoke(stack, "ExpirePointsFunction", scheduled(at))
    took = time.monotonic() - started
    assert planned["planned"] == 2 * DUE_SHARDS  # expire and remind, whatever the number of programs
    assert took < 20, took
    # The stored balance, not the view: the view shows points as of today, long after both expired.
    assert store.get_member(pids[0], "due").balance == 0  # type: ignore[union-attr]
    assert store.get_member(pids[1], "later").balance > 0  # type: ignore[union-attr]

    reads: Counter[str] = Counter()

    def count(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query":
            reads["queries"] += 1
            reads["items"] += parsed.get("Count", 0)

    store.client.meta.events.register("after-call.dynamodb", count)
    for item in scheduler.plan(at, ["expire"]):  # the same run again, in-process, counted
        scheduler.work(store, item, lambda: 900)
    assert reads == {"queries": DUE_SHARDS, "items": 0}  # settled: nothing due is read again


def test_a_member_scheduled_during_a_run_is_settled_by_that_run_or_the_next(
    stack: Stack, api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = program("points-only")
    doc["points"]["expiry"] = {"policy": "rolling_months", "months": 1}
    pid = fresh(api, doc)
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    same_shard = [m for m in (f"s{i}" for i in range(400)) if due_shard(m) == 3][:4]
    for m in same_shard[:3]:
        members.enrol(store, pid, Enrol(member_id=m), datetime(2023, 1, 10, tzinfo=UTC))
    at = datetime(2023, 3, 5, tzinfo=UTC)
    monkeypatch.setattr(scheduler, "PAGE", 1)
    real_settle = scheduler.sweeps.settle
    late = same_shard[3]

    def and_one_more(*args: Any) -> bool:
        if not store.get_member(pid, late):  # mid-run, a member due earlier than the cursor appears
            members.enrol(store, pid, Enrol(member_id=late), datetime(2023, 1, 5, tzinfo=UTC))
        return real_settle(*args)

    monkeypatch.setattr(scheduler.sweeps, "settle", and_one_more)
    item: scheduler.WorkItem | None = scheduler.WorkItem(kind="expire", shard=3, run_at=at)
    while item is not None:
        _, item = scheduler.work(store, item, lambda: 900)
    monkeypatch.setattr(scheduler.sweeps, "settle", real_settle)
    scheduler.work(store, scheduler.WorkItem(kind="expire", shard=3, run_at=at), lambda: 900)  # the next run
    for m in same_shard:
        assert store.get_member(pid, m).balance == 0, m  # type: ignore[union-attr]


def test_due_items_of_the_per_day_layout_are_migrated_once_and_then_settled(stack: Stack, api: Client) -> None:
    doc = program("points-only")
    doc["points"]["expiry"] = {"policy": "rolling_months", "months": 1}
    pid = fresh(api, doc)
    ddb = client(stack.ddb.endpoint)
    store = Store("LoyaltyTable", ddb)
    for m in ("a", "b"):
        members.enrol(store, pid, Enrol(member_id=m), datetime(2022, 1, 10, tzinfo=UTC))
        for kind, day in store.get_member(pid, m).due_days.items():  # type: ignore[union-attr]
            ddb.update_item(  # as the per-day layout wrote it
                TableName="LoyaltyTable",
                Key={"pk": {"S": f"MEMBER#{pid}#{m}"}, "sk": {"S": f"DUE#{kind}"}},
                UpdateExpression="SET gsi1pk = :pk, gsi1sk = :sk REMOVE due_at",
                ExpressionAttributeValues={
                    ":pk": {"S": f"DUE#{pid}#{kind}#{day[:10]}#{due_shard(m)}"},
                    ":sk": {"S": m},
                },
            )
    at = datetime(2022, 3, 20, tzinfo=UTC)
    invoke(stack, "ExpirePointsFunction", scheduled(at))
    assert store.get_member(pid, "a").balance > 0  # type: ignore[union-attr]  # not in the new index yet

    first = invoke(stack, "MigrateDueFunction", {})
    assert first["done"] is True and first["migrated"] >= 2
    again = invoke(stack, "MigrateDueFunction", {})
    assert again["done"] is True and again.get("migrated", 0) == 0  # idempotent
    invoke(stack, "ExpirePointsFunction", scheduled(at))  # overdue since 2022-03-01: settled now
    for m in ("a", "b"):
        assert store.get_member(pid, m).balance == 0  # type: ignore[union-attr]
