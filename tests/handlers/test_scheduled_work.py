"""A scheduled run's record (moto): the planner records it, its workers count the members they settle
on it, and GET /operations/scheduled shows both (the console's Scheduled work page)."""

from __future__ import annotations

from datetime import UTC, datetime

from loyalty.runtime import store
from loyalty.usecases import programs, scheduler
from tests.handlers.conftest import Api
from tests.support import program


def run(at: datetime, kinds: list[str]) -> None:
    """What the planner and then its workers do, in process."""
    items = scheduler.plan(at, kinds)
    scheduler.record(store(), kinds, at, len(items))
    for item in items:
        scheduler.work(store(), item, lambda: 900)


def last_run(api: Api, kinds: list[str]) -> dict:
    status, work = api.call("programs", "GET", "/operations/scheduled")
    assert status == 200, work
    [found] = [r for r in work["runs"] if r["kinds"] == kinds]
    return found


def test_a_run_counts_the_members_it_settled(api: Api) -> None:
    api.call("programs", "PUT", "/programs/demo", program("demo"))
    for i in range(3):  # gold members: this month's tier coupon is due for each today
        api.call("enrol", "POST", "/programs/demo/members", {"member_id": f"m{i}"})
        purchase = {"order_id": f"o{i}", "amount_minor": 120000}
        assert api.call("earn", "POST", f"/programs/demo/members/m{i}/purchases", purchase)[0] == 201
    programs._cache.clear()
    at = datetime.now(UTC).replace(microsecond=0)
    run(at, ["benefits"])
    assert last_run(api, ["benefits"])["members_settled"] == 3
    run(at, ["benefits"])  # the same time again: nothing left to settle, and the record says so
    assert last_run(api, ["benefits"])["members_settled"] == 0


def test_a_late_work_item_of_an_earlier_run_does_not_count_on_a_later_one(api: Api) -> None:
    api.call("programs", "PUT", "/programs/demo", program("demo"))
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    assert (
        api.call("earn", "POST", "/programs/demo/members/m1/purchases", {"order_id": "o1", "amount_minor": 120000})[0]
        == 201
    )
    programs._cache.clear()
    now = datetime.now(UTC).replace(microsecond=0)
    earlier = scheduler.plan(now, ["benefits"])
    scheduler.record(store(), ["benefits"], now.replace(year=now.year + 1), 0)  # a later run recorded meanwhile
    for item in earlier:
        scheduler.work(store(), item, lambda: 900)
    assert last_run(api, ["benefits"])["members_settled"] == 0
