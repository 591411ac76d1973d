"""Issue 31 (B) through the real handlers (moto): the campaigns of programs/growth.json (one review per
product, a check-in streak with a computed amount, its own expiry and a monthly points cap), each with
its negative case, and what PUT says of a computed amount."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loyalty import clock
from tests.handlers.conftest import Api
from tests.handlers.test_budgets import run_kind
from tests.support import program

SHANGHAI = ZoneInfo("Asia/Shanghai")
P = "/programs/growth"


def local(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def at(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[datetime], None]]:
    """Saves the template, enrols m1 and pins the handlers' clock; `at(t)` moves it."""
    now = [local(2026, 12, 1, 8)]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    status, body = api.call("programs", "PUT", P, program("growth"))
    assert status == 200, body
    status, body = api.call("enrol", "POST", f"{P}/members", {"member_id": "m1"})
    assert status == 201, body

    def pin(when: datetime) -> None:
        now[0] = when

    yield pin


def activity(api: Api, activity_id: str, type_: str, when: datetime, **kw: Any) -> dict[str, Any]:
    body = {"activity_id": activity_id, "type": type_, "at": when.isoformat(), **kw}
    status, result = api.call("earn", "POST", f"{P}/members/m1/activities", body)
    assert status == 201, result
    return result


def campaign_points(result: dict[str, Any]) -> dict[str, int]:
    return {c["campaign_id"]: c["points"] for c in result["campaigns"]}


def balance(api: Api) -> int:
    status, body = api.call("members", "GET", f"{P}/members/m1")
    assert status == 200, body
    return body["points"]["balance"]


def test_one_review_per_product(api: Api, at: Callable) -> None:
    day = local(2026, 12, 2)
    at(day)
    first = activity(api, "r1", "review", day, object_id="sku-1")
    assert (first["points_earned"], campaign_points(first)) == (20 + 30, {"review-per-product": 30})
    again = activity(api, "r2", "review", day, object_id="sku-1")  # the same product: the review's own 20
    assert (again["points_earned"], again["campaigns"]) == (20, [])
    at(day + timedelta(days=1))
    other = activity(api, "r3", "review", day + timedelta(days=1), object_id="sku-2")
    assert campaign_points(other) == {"review-per-product": 30}
    unnamed = activity(api, "r4", "review", day + timedelta(days=1))  # no object: nothing to count it by
    assert unnamed["campaigns"] == []
    assert balance(api) == 4 * 20 + 2 * 30
    # A repeat of a request is answered as it was, and counts nothing again.
    status, body = api.call(
        "earn",
        "POST",
        f"{P}/members/m1/activities",
        {"activity_id": "r1", "type": "review", "at": day.isoformat(), "object_id": "sku-1"},
    )
    assert (status, body) == (200, first)


def test_a_check_in_streak_gives_5_more_a_day_up_to_30_that_expire_in_30_days(api: Api, at: Callable) -> None:
    start = local(2026, 12, 1)
    runs = []
    for n in range(9):
        at(start + timedelta(days=n))
        runs.append(activity(api, f"c{n}", "check_in", start + timedelta(days=n)))
    # Day 1 of a run: (1 - 1) x 5 = 0, no application; then 5, 10, ... capped at 30 from the 7th day.
    assert [campaign_points(r).get("check-in-streak", 0) for r in runs] == [0, 5, 10, 15, 20, 25, 30, 30, 30]
    assert runs[0]["campaigns"] == [] and all(r["points_earned"] >= 5 for r in runs)
    streak_points = 5 + 10 + 15 + 20 + 25 + 30 * 3
    assert balance(api) == 9 * 5 + streak_points
    # Each day's streak points are their own bucket, 30 days after the day they were credited; the points
    # run takes each one the day after (the member is due then), and the check-ins' own points stay.
    assert run_kind("expire", local(2027, 1, 1, 12)) == 0  # none due yet
    assert run_kind("expire", local(2027, 1, 2, 12)) == 1  # 2 Dec + 30 = 1 Jan: expired on the 2nd
    assert balance(api) == 9 * 5 + streak_points - 5
    assert run_kind("expire", local(2027, 1, 10, 12)) == 1  # the rest
    assert balance(api) == 9 * 5
    status, ledger = api.call("members", "GET", f"{P}/members/m1/ledger")
    assert status == 200 and [e["points"] for e in ledger["entries"] if e["type"] == "expire"] == [
        -(streak_points - 5),
        -5,
    ]


def test_the_streak_is_capped_at_300_points_a_month(api: Api, at: Callable) -> None:
    start = local(2026, 12, 1)
    given = []
    for n in range(17):
        at(start + timedelta(days=n))
        given.append(
            campaign_points(activity(api, f"c{n}", "check_in", start + timedelta(days=n))).get("check-in-streak", 0)
        )
    # 5 + 10 + ... + 30 (105), then 30 a day: 300 reached on the 14th day's 15 of the 30 it would give.
    assert sum(given) == 300 and given[13] == 15 and given[14:] == [0, 0, 0]
    for n in (1, 2):  # a new run in a new month: its cap has room again
        at(local(2027, 1, n))
        january = activity(api, f"j{n}", "check_in", local(2027, 1, n))
    assert campaign_points(january) == {"check-in-streak": 5}


def test_put_lists_every_problem_of_computed_amounts_and_limits(api: Api) -> None:
    doc = program("growth")
    doc["campaigns"] += [
        {
            "id": "bad",
            "name": "bad",
            "trigger": "activity",
            "effects": [{"points": "activity.streak_days > 1", "max": 5}, {"growth": "activity.streak_days"}],
            "limits": {"per_member": {"count": 1, "per": "object"}},
        },
        {"id": "tea", "name": "tea", "trigger": "purchase", "effects": [{"points": 5, "max": 5}]},
        {
            "id": "sum",
            "name": "sum",
            "trigger": "purchase",
            "when": "sum(order.items.map(i, i.sku)) > 0",
            "effects": [{"points_per_unit": {"points": 1, "per": "unit"}}],
        },
    ]
    status, body = api.call("programs", "PUT", P, doc)
    assert status == 422 and body["error"]["code"] == "program_invalid", body
    fields = {d["field"] for d in body["error"]["details"]}
    assert fields == {
        "campaigns[2].effects[0].points",
        "campaigns[2].effects[1].max",
        "campaigns[3].effects[0].max",
        "campaigns[4].when",
    }
