"""Grants to an audience on DynamoDB Local: parallel deliveries of one grant's pages (two workers, a
redelivered message, a crash before and after a member's write mid-page, then the retry) give each
member its share exactly once and keep the counts exact; a member changing tier while a grant runs is
granted by the audience it was in when its page was read, never twice; blocked members are skipped;
the audience index is read at most 1.01 items a member."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from loyalty.schemas import Enrol, GrantBody, Purchase
from loyalty.store import Store
from loyalty.store.codec import dump
from loyalty.store.keys import PROFILE_SK, key, member_pk
from loyalty.usecases import earning, grants, members, programs
from tests.support import program

pytestmark = pytest.mark.integration
NOW = datetime(2026, 3, 10, 4, tzinfo=UTC)
GIFT = {"audience": {"tier": "star"}, "points": 50, "coupons": ["welcome-10"], "reason": "spring thanks"}
WELCOME = 100  # the demo program's welcome points


class Crash(BaseException):
    """A Lambda dying mid-page: not an Exception, so no handler in the code under test catches it."""


def fresh(store: Store, n: int) -> tuple[str, list[str]]:
    pid = f"g-{uuid.uuid4().hex[:10]}"
    programs.save(store, pid, program("demo"))
    mids = [f"m{i:03d}" for i in range(n)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda mid: members.enrol(store, pid, Enrol(member_id=mid), NOW), mids))
    return pid, mids


def start(store: Store, pid: str, gid: str = "g1", body: dict[str, Any] = GIFT) -> grants.GrantWork:
    created, _, [first] = grants.start(store, pid, gid, GrantBody.model_validate(body), NOW)
    assert created
    return first


def run(store: Store, first: grants.GrantWork) -> None:
    """One worker, each message once."""
    waiting = [first]
    while waiting:
        waiting += grants.page(store, waiting.pop(0), NOW)[1]


def shares(store: Store, pid: str, mid: str, gid: str = "g1") -> int:
    ledger, _ = store.ledger(pid, mid, 1000, None)
    return sum(1 for e in ledger if e.ref == f"grant:{gid}")


def assert_each_once(store: Store, pid: str, mids: list[str], gid: str = "g1") -> None:
    for mid in mids:
        assert shares(store, pid, mid, gid) == 1, mid
        profile = store.get_member(pid, mid)
        assert profile is not None and profile.balance == WELCOME + 50, mid
    got = grants.report(store, pid, gid)
    assert got.status == "done"
    assert (got.members_read, got.members_matched, got.members_granted, got.members_skipped) == (
        len(mids),
        len(mids),
        len(mids),
        0,
    )
    assert (got.points, got.coupons) == (50 * len(mids), len(mids))


def test_two_workers_and_a_redelivery_of_every_page_give_each_member_once(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grants, "PAGE", 7)
    pid, mids = fresh(store, 25)
    waiting, ran = [start(store, pid)], set()
    while waiting:
        work = waiting.pop(0)
        if work.page in ran:
            continue  # the duplicates each delivery may send: one more run of a page is below
        ran.add(work.page)
        with ThreadPoolExecutor(2) as pool:  # two workers with the same message at once
            runs = [job.result() for job in [pool.submit(grants.page, store, work, NOW) for _ in range(2)]]
        redelivered = grants.page(store, work, NOW)  # and the message again, later
        waiting += [f for _, following in [*runs, redelivered] for f in following]
    assert ran == {0, 1, 2, 3}
    assert_each_once(store, pid, mids)
    assert grants.report(store, pid, "g1").pages == 4


@pytest.mark.parametrize("when", ["before-call", "after-call"])
def test_a_crash_before_or_after_a_members_write_mid_page_then_the_retry(
    store: Store, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """`before-call`: the write never reached the table; `after-call`: it committed and the worker died
    before it knew. The retry of the page grants the rest and counts the written one from its reference."""
    monkeypatch.setattr(grants, "PAGE", 10)
    pid, mids = fresh(store, 15)
    first = start(store, pid)
    seen: list[int] = []

    def crash(model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            seen.append(1)
            if len(seen) == 4:
                raise Crash

    store.client.meta.events.register(f"{when}.dynamodb", crash)
    try:
        with pytest.raises(Crash):
            grants.page(store, first, NOW)
    finally:
        store.client.meta.events.unregister(f"{when}.dynamodb", crash)
    assert grants.report(store, pid, "g1").members_granted == 0  # the page is not recorded
    run(store, first)
    assert_each_once(store, pid, mids)


def test_a_member_changing_tier_is_granted_by_the_audience_of_its_page_never_twice(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(grants, "PAGE", 3)
    pid, mids = fresh(store, 6)  # m000..m005, all star
    first = start(store, pid)

    def gold(mid: str) -> None:  # the demo's gold threshold: 1000.00 spent
        earning.purchase(store, pid, mid, Purchase(order_id=f"o-{mid}", amount_minor=100000), NOW)
        profile = store.get_member(pid, mid)
        assert profile is not None and profile.tier_id == "gold"

    # The first run of page 0 reads m000..m002 and dies before any member's write.
    def crash(model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            raise Crash

    store.client.meta.events.register("before-call.dynamodb", crash)
    try:
        with pytest.raises(Crash):
            grants.page(store, first, NOW)
    finally:
        store.client.meta.events.unregister("before-call.dynamodb", crash)
    gold("m002")  # left star after its page was read: still granted, by that page
    gold("m004")  # left star before its page was read: not granted
    _, [second] = grants.page(store, first, NOW)
    gold("m000")  # granted already: leaving star changes nothing
    run(store, second)
    assert [shares(store, pid, mid) for mid in mids] == [1, 1, 1, 1, 0, 1]
    got = grants.report(store, pid, "g1")
    assert (got.members_read, got.members_granted, got.points, got.status) == (5, 5, 250, "done")


def test_blocked_members_are_skipped_and_counted(store: Store) -> None:
    pid, mids = fresh(store, 4)
    store.client.update_item(
        TableName="LoyaltyTable",
        Key=key(member_pk(pid, "m001"), PROFILE_SK),
        UpdateExpression="SET blocked = :b",
        ExpressionAttributeValues=dump({":b": {"at": NOW.isoformat(), "reason": "abuse"}}),
    )
    run(store, start(store, pid))
    assert [shares(store, pid, mid) for mid in mids] == [1, 0, 1, 1]
    got = grants.report(store, pid, "g1")
    assert (got.members_matched, got.members_granted, got.members_skipped, got.skipped.blocked) == (4, 3, 1, 1)


def test_the_index_is_read_at_most_101_items_a_hundred_members(store: Store) -> None:
    pid, mids = fresh(store, 150)
    read: list[int] = []

    def count(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query" and "Items" in parsed:
            read.append(len(parsed["Items"]))

    store.client.meta.events.register("after-call.dynamodb.Query", count)
    try:
        run(store, start(store, pid))
    finally:
        store.client.meta.events.unregister("after-call.dynamodb.Query", count)
    assert read == [101, 50]  # a page reads one id past its last (the next page's cursor)
    assert sum(read) <= 1.01 * len(mids), read
    assert grants.report(store, pid, "g1").members_granted == 150
