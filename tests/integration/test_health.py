"""Health figures from the stream on DynamoDB Local, through the local runtime: exact figures after a
day of activity, and a stream batch delivered twice counted once."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from local.dynamodb import client
from local.stack import Stack, put_program
from loyalty.store import Store
from loyalty.usecases import health
from tests.integration.conftest import Client, lambda_client
from tests.integration.test_events import Stream
from tests.integration.test_expiry_sweep import scheduled
from tests.support import program


def wait_for(api: Client, pid: str, done: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 45
    while True:
        status, figures = api.call("GET", f"/programs/{pid}/health")
        assert status == 200, figures
        if done(figures) or time.monotonic() > deadline:
            return figures
        time.sleep(0.5)


def test_health_figures_follow_what_was_committed(stack: Stack, api: Client, pid: str) -> None:
    m = f"/programs/{pid}/members"
    for member in ("a", "b", "c"):
        assert api.call("POST", m, {"member_id": member})[0] == 201
    assert api.call("POST", f"{m}/a/purchases", {"order_id": "o1", "amount_minor": 150000})[0] == 201  # gold
    assert api.call("POST", f"{m}/a/purchases", {"order_id": "o2", "amount_minor": 10000})[0] == 201
    assert api.call("POST", f"{m}/a/purchases", {"order_id": "o2", "amount_minor": 10000})[0] == 200  # a repeat
    assert api.call("POST", f"{m}/b/purchases", {"order_id": "o3", "amount_minor": 5000})[0] == 201
    refund = {"refund_id": "r1", "order_id": "o1", "amount_minor": 50000}
    assert api.call("POST", f"{m}/a/refunds", refund)[0] == 201
    coupon = api.call("GET", f"{m}/b/coupons")[1]["coupons"][0]["coupon_id"]
    use = {"order_id": "t1", "order_amount_minor": 5000}
    assert api.call("POST", f"{m}/b/coupons/{coupon}/use", use)[0] == 200
    assert api.call("POST", f"{m}/a/redemptions", {"redemption_id": "d1", "reward_id": "coupon-5"})[0] == 201

    figures = wait_for(api, pid, lambda f: f["coupon_redemption_rate"] and f["points_consumption_rate"])
    earned = 300 + 1500 + 200 + 120 + 50 + 200  # welcome x3, o1 + first-order bonus, o2 at gold 1.2, o3 + bonus
    assert figures["members"] == 3 and figures["new_members"] == 3
    assert figures["orders"] == 3 and figures["member_gmv_minor"] == 150000 + 10000 + 5000 - 50000
    liability = earned - 500 - 566
    assert figures["points_liability"] == {"points": liability, "worth_minor": liability, "pending": 0}
    assert figures["coupon_redemption_rate"] == round(1 / 5, 4)  # 3 welcome, the gold gift, the reward
    assert figures["points_consumption_rate"] == round(500 / earned, 4)
    assert figures["active_rate"] == round(2 / 3, 4) and figures["repurchase_rate"] == 0.5
    assert figures["members_per_tier"] == {"star": 2, "gold": 1, "diamond": 0}
    assert figures["clv_minor"] == 115000 // 3

    # The same records delivered again (a retried batch) change nothing.
    ddb = client(stack.ddb.endpoint)
    mine = [r for r in Stream(stack.ddb.endpoint).new() if pid in str(r["dynamodb"]["Keys"]["pk"])]
    assert health.count(Store("LoyaltyTable", ddb), mine) == 0
    assert api.call("GET", f"/programs/{pid}/health")[1] == figures


def test_a_bad_range_is_a_422_naming_the_field(api: Client, pid: str) -> None:
    status, body = api.call("GET", f"/programs/{pid}/health?from=2026-03-02&to=2026-03-01")
    assert status == 422 and body["error"]["details"][0]["field"] == "from"
    status, body = api.call("GET", f"/programs/{pid}/health?from=yesterday")
    assert status == 422 and body["error"]["details"][0]["field"] == "from"


def test_rfm_segments_show_on_members_in_health_and_as_a_benefit_target(stack: Stack, api: Client) -> None:
    pid = f"r-{uuid.uuid4().hex[:10]}"
    doc = program("demo") | {"rfm": {"benefits": {"promising": {"coupons": ["welcome-10"]}}}}
    assert put_program(api.base, pid, doc)[0] == 200
    m = f"/programs/{pid}/members"
    for member in ("a", "b", "c"):
        assert api.call("POST", m, {"member_id": member})[0] == 201
    assert api.call("POST", f"{m}/a/purchases", {"order_id": "o1", "amount_minor": 5000})[0] == 201
    view = api.call("GET", f"{m}/a")[1]
    assert view["rfm"] == {"recency": 5, "frequency": 1, "monetary": 1, "segment": "promising"}
    assert api.call("GET", f"{m}/b")[1]["rfm"]["segment"] == "prospect"

    figures = wait_for(api, pid, lambda f: f["members_per_segment"].get("promising"))
    assert figures["members_per_segment"] == {"promising": 1, "prospect": 2}

    run = scheduled(datetime.now(UTC))
    reply = lambda_client(stack).invoke(FunctionName="IssueBenefitsFunction", Payload=json.dumps(run))
    assert "FunctionError" not in reply, reply["Payload"].read()
    sources = [c["source"] for c in api.call("GET", f"{m}/a/coupons")[1]["coupons"]]
    assert sum(s.startswith("segment:promising:") for s in sources) == 1
    assert not any(
        s.startswith("segment:")
        for c in ("b", "c")
        for s in (x["source"] for x in api.call("GET", f"{m}/{c}/coupons")[1]["coupons"])
    )
