"""Issue 31 (B) on DynamoDB Local, under concurrency: parallel reviews of one product by one member give
the review campaign once, and parallel check-ins never pass a points limit; the ledger stays the
balance."""

from __future__ import annotations

import uuid
from typing import Any

from local.stack import put_program
from tests.integration.conftest import Client
from tests.integration.test_parallel import assert_ledger_is_the_balance, parallel
from tests.support import program

N = 8


def growth_program(api: Client, **limits: Any) -> str:
    pid = f"a-{uuid.uuid4().hex[:10]}"
    doc = program("growth")
    doc["points"]["activities"]["review"]["daily_cap"] = 100
    doc["points"]["activities"]["check_in"]["daily_cap"] = 100
    # A flat 30 a check-in (the streak does not grow within a day), capped at 100 a day.
    doc["campaigns"][1]["effects"] = [{"points": "activity.streak_days * 30", "max": 30}]
    doc["campaigns"][1]["limits"] = {"per_member": {"points": 100, "per": "day"}}
    assert put_program(api.base, pid, doc)[0] == 200
    assert api.call("POST", f"/programs/{pid}/members", {"member_id": "m1"})[0] == 201
    return pid


def activity(api: Client, pid: str, activity_id: str, type_: str, **kw: Any) -> Any:
    body = {"activity_id": activity_id, "type": type_, **kw}
    return lambda: api.call("POST", f"/programs/{pid}/members/m1/activities", body)


def test_parallel_reviews_of_one_product_give_its_campaign_once(api: Client) -> None:
    pid = growth_program(api)
    results = parallel([activity(api, pid, f"r{n}", "review", object_id="sku-1") for n in range(N)])
    assert all(status == 201 for status, _ in results), results
    given = [c["points"] for _, body in results for c in body["campaigns"]]
    assert given == [30]
    assert assert_ledger_is_the_balance(api, pid, "m1") == N * 20 + 30  # the reviews, the campaign once


def test_parallel_check_ins_never_pass_the_points_limit(api: Client) -> None:
    pid = growth_program(api)
    results = parallel([activity(api, pid, f"c{n}", "check_in") for n in range(N)])
    assert all(status == 201 for status, _ in results), results
    given = sorted(c["points"] for _, body in results for c in body["campaigns"])
    assert given == [10, 30, 30, 30]  # 100 a day: three whole, then what is left, then nothing
    assert assert_ledger_is_the_balance(api, pid, "m1") == N * 5 + 100
