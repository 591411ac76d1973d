"""The campaigns report on DynamoDB Local, through the local runtime: purchases in parallel by many
members, each setting off many campaigns, are counted exactly once per campaign and per day (the
counter's chunks fit a transaction however many campaign items their records touch), and the report
reads them in one Query (its `BETWEEN` on DynamoDB's own key order)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local.dynamodb import client
from local.stack import Stack, put_program
from loyalty.store import Store
from loyalty.usecases import health
from tests.integration.conftest import Client
from tests.integration.test_events import Stream
from tests.support import program

MEMBERS, TAGGERS = 12, 30


def report(api: Client, pid: str, done: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        status, body = api.call("GET", f"/programs/{pid}/campaigns")
        assert status == 200, body
        by_id = {c["campaign_id"]: c for c in body["campaigns"]}
        if done(by_id) or time.monotonic() > deadline:
            return by_id
        time.sleep(0.5)


def test_parallel_purchases_setting_off_many_campaigns_are_counted_once_each(stack: Stack, api: Client) -> None:
    pid = f"cr-{uuid.uuid4().hex[:10]}"
    doc = program("demo")
    doc["points"]["value"] = {"points": 100, "worth_minor": 50}
    doc["campaigns"] = [
        {
            "id": "bonus",
            "name": "bonus",
            "trigger": "purchase",
            "effects": [{"points": 100}, {"coupons": ["welcome-10"]}],
        },
        *[
            {"id": f"tag-{n}", "name": f"tag {n}", "trigger": "purchase", "effects": [{"tag": f"t{n}"}]}
            for n in range(TAGGERS)
        ],
    ]
    assert put_program(api.base, pid, doc)[0] == 200
    members = [f"m{n}" for n in range(MEMBERS)]
    for member in members:
        assert api.call("POST", f"/programs/{pid}/members", {"member_id": member})[0] == 201

    def buy(member: str) -> int:
        order = {"order_id": f"o-{member}", "amount_minor": 8000}
        return api.call("POST", f"/programs/{pid}/members/{member}/purchases", order)[0]

    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(buy, members)) == {201}
    # One refund: the bonus's points, GMV and cost net of it.
    refund = {"refund_id": "r1", "order_id": "o-m0", "amount_minor": 4000}
    assert api.call("POST", f"/programs/{pid}/members/m0/refunds", refund)[0] == 201

    by_id = report(
        api,
        pid,
        lambda c: (
            c["bonus"]["points_reversed"] and all(c[f"tag-{n}"]["applications"] == MEMBERS for n in range(TAGGERS))
        ),
    )
    bonus = by_id["bonus"]
    assert (bonus["applications"], bonus["members_reached"], bonus["orders"]) == (MEMBERS, MEMBERS, MEMBERS)
    assert (bonus["points_given"], bonus["points_reversed"], bonus["coupons_given"]) == (100 * MEMBERS, 50, MEMBERS)
    assert bonus["gmv_minor"] == 8000 * MEMBERS - 4000
    assert bonus["cost_minor"] == (100 * MEMBERS - 50) // 2
    assert [d["applications"] for d in bonus["days"]] == [MEMBERS] and bonus["status"] == "running"
    assert all(by_id[f"tag-{n}"]["gmv_minor"] == 8000 * MEMBERS - 4000 for n in range(TAGGERS))

    # Everything delivered again (a retried batch) counts nothing more.
    mine = [r for r in Stream(stack.ddb.endpoint).new() if pid in str(r["dynamodb"]["Keys"]["pk"])]
    assert health.count(Store("LoyaltyTable", client(stack.ddb.endpoint)), mine) == 0
    assert report(api, pid, lambda _: True) == by_id
