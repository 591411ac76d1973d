"""A shadow run on DynamoDB Local, through the local runtime and its stream: purchases in parallel by
several members, with a draft identical to the live program, report exactly the live figures (and
the draft gives nothing: the answers are the live program's)."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local.stack import Stack, put_program
from tests.integration.conftest import Client
from tests.support import program

MEMBERS = 8


def shadow_report(api: Client, pid: str, events: int) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        status, body = api.call("GET", f"/programs/{pid}/drafts/same/shadow")
        assert status == 200, body
        if body["events"] >= events or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


def test_a_shadow_of_the_live_program_reports_the_live_figures(stack: Stack, api: Client) -> None:
    pid = f"sh-{uuid.uuid4().hex[:10]}"
    doc = program("demo")
    doc["campaigns"] += [
        {
            "id": "big",
            "name": "big",
            "trigger": "purchase",
            "when": "order.amount_minor >= 5000",
            "effects": [{"points": 100}, {"coupons": ["off-5"]}],
        },
        {"id": "up", "name": "upgraded", "trigger": "tier_changed", "effects": [{"points": 50}]},
    ]
    assert put_program(api.base, pid, doc)[0] == 200
    assert api.call("PUT", f"/programs/{pid}/drafts/same", doc)[0] == 200
    assert api.call("POST", f"/programs/{pid}/drafts/same/shadow", {"until": "2099-01-01T00:00:00Z"})[0] == 200
    members = [f"m{n}" for n in range(MEMBERS)]
    for member in members:
        assert api.call("POST", f"/programs/{pid}/members", {"member_id": member})[0] == 201

    def buy(job: tuple[str, int]) -> dict[str, Any]:
        member, amount = job
        order = {"order_id": f"o-{member}-{amount}", "amount_minor": amount}
        status, body = api.call("POST", f"/programs/{pid}/members/{member}/purchases", order)
        assert status == 201, body
        return body

    jobs = [(m, amount) for m in members for amount in (3000, 8000, 110000 if m == "m0" else 900)]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(buy, jobs))
    body = shadow_report(api, pid, len(jobs))
    assert body["events"] == len(jobs)
    assert body["total"]["draft"] == body["total"]["live"]
    assert body["total"]["live"]["points"] == sum(a["points_earned"] for a in answers)
    assert body["total"]["live"]["coupons"] == sum(len(a["coupons"]) for a in answers)
    assert body["total"]["live"]["members_reached"] == MEMBERS
    by_id = {c["campaign_id"]: c for c in body["campaigns"]}
    assert all(c["draft"] == c["live"] for c in body["campaigns"])
    assert (by_id["big"]["live"]["points"], by_id["big"]["live"]["members_reached"]) == (100 * (MEMBERS + 1), MEMBERS)
    assert by_id["up"]["live"]["points"] == 50


def test_a_program_too_large_beside_its_shadow_runs_draft_is_a_422_naming_shadow(api: Client) -> None:
    """Each fits one item alone; the CONFIG item holds both while the run lasts: the save says so."""
    pid = f"sh-{uuid.uuid4().hex[:10]}"
    doc = program("demo")
    assert put_program(api.base, pid, doc)[0] == 200

    def big(name: str) -> dict[str, Any]:
        coupons = {
            f"{name}-{k:04d}": {**doc["coupons"]["off-5"], "name": f"{name} coupon {k:04d} " + "x" * 60}
            for k in range(1500)
        }
        return {**doc, "coupons": {**doc["coupons"], **coupons}}

    assert api.call("PUT", f"/programs/{pid}/drafts/big", big("draft"))[0] == 200
    assert api.call("POST", f"/programs/{pid}/drafts/big/shadow", {"until": "2099-01-01T00:00:00Z"})[0] == 200
    status, body = put_program(api.base, pid, big("live"))
    assert status == 422, body
    assert body["error"]["code"] == "program_invalid" and body["error"]["details"][0]["field"] == "shadow", body
    assert put_program(api.base, pid, doc)[0] == 200  # a smaller program still fits beside it
