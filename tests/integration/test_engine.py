"""The scheduled engine on DynamoDB Local: poison messages, a worker killed mid-shard, cursors."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from local.dynamodb import client
from local.stack import Stack, put_program
from loyalty.schemas import Enrol
from loyalty.store import Store, due_shard
from loyalty.usecases import members, scheduler
from tests.integration.conftest import Client
from tests.support import program

T0 = datetime(2026, 1, 10, 15, tzinfo=UTC)
RUN = datetime(2026, 3, 1, 12, tzinfo=UTC)  # the welcome points of January expired on 2026-02-28


def program_with_due_members(stack: Stack, api: Client, count: int) -> tuple[Store, str, list[str]]:
    doc = program("points-only")
    doc["points"]["expiry"] = {"policy": "rolling_months", "months": 1}
    pid = f"e-{uuid.uuid4().hex[:10]}"
    assert put_program(api.base, pid, doc)[0] == 200
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    ids = [m for m in (f"m{i}" for i in range(200)) if due_shard(m) == 0][:count]
    for member_id in ids:
        members.enrol(store, pid, Enrol(member_id=member_id), T0)
    return store, pid, ids


def expire_entries(store: Store, pid: str, member_id: str) -> int:
    entries, _ = store.ledger(pid, member_id, 100, None)
    return sum(1 for e in entries if e.type == "expire")


def test_a_worker_killed_mid_shard_is_finished_by_the_rerun_without_doubles(
    stack: Stack, api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, pid, ids = program_with_due_members(stack, api, 6)
    item = scheduler.WorkItem(kind="expire", shard=0, run_at=RUN)
    monkeypatch.setattr(scheduler, "PAGE", 2)
    seen = {"members": 0}
    real_settle = scheduler.sweeps.settle

    def dies_after_three(*args: object) -> bool:
        if seen["members"] == 3:
            raise SystemExit("the worker was killed")
        seen["members"] += 1
        return real_settle(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(scheduler.sweeps, "settle", dies_after_three)
    with pytest.raises(SystemExit):
        scheduler.work(store, item, lambda: 900)
    monkeypatch.setattr(scheduler.sweeps, "settle", real_settle)
    assert sum(expire_entries(store, pid, m) for m in ids) == 3

    stats, rest = scheduler.work(store, item, lambda: 900)  # the message comes back: the item runs again
    assert rest is None and stats.get("members_settled") == 3
    assert [expire_entries(store, pid, m) for m in ids] == [1] * 6


def test_a_worker_short_of_time_hands_back_its_cursor(
    stack: Stack, api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, pid, ids = program_with_due_members(stack, api, 5)
    monkeypatch.setattr(scheduler, "PAGE", 2)
    item = scheduler.WorkItem(kind="expire", shard=0, run_at=RUN)
    settled = 0
    while item is not None:
        stats, item = scheduler.work(store, item, lambda: 10)  # always short of time: one page per call
        settled += stats.get("members_settled", 0)
    assert settled == 5 and [expire_entries(store, pid, m) for m in ids] == [1] * 5


def test_a_poison_message_goes_to_the_dead_letter_queue_and_the_batch_goes_on(
    stack: Stack, api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, pid, ids = program_with_due_members(stack, api, 3)
    queues = stack.queues
    monkeypatch.setitem(queues.visibility, "WorkQueue", 1)  # its three receives a second apart, not 16 minutes
    dead_before = queues.depth("WorkDeadLetterQueue")
    good = scheduler.WorkItem(kind="expire", shard=0, run_at=RUN)
    queues.sqs.send_message(QueueUrl=queues.urls["WorkQueue"], MessageBody=json.dumps({"not": "a work item"}))
    queues.sqs.send_message(QueueUrl=queues.urls["WorkQueue"], MessageBody=good.model_dump_json())
    assert stack.runtime.settle() == {"settled": 1, "failed": 0, "dead_lettered": 1}
    assert queues.depth("WorkQueue") == 0
    assert queues.depth("WorkDeadLetterQueue") == dead_before + 1
    assert [expire_entries(store, pid, m) for m in ids] == [1] * 3
