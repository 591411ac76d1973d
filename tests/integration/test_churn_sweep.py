"""Churn sweeps through the Invoke API on DynamoDB Local: warning, win-back, recall, repeats."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from local.dynamodb import client
from local.stack import Stack, put_program
from loyalty.schemas import Enrol, Purchase
from loyalty.store import Store
from loyalty.usecases import earning, members
from tests.integration.conftest import Client, lambda_client
from tests.integration.test_expiry_sweep import scheduled
from tests.support import program

T0 = datetime(2026, 1, 10, 4, tzinfo=UTC)  # noon in Shanghai, the demo's time zone


def sweep(stack: Stack, at: datetime) -> None:
    reply = lambda_client(stack).invoke(FunctionName="ChurnSweepFunction", Payload=json.dumps(scheduled(at)))
    assert "FunctionError" not in reply, reply["Payload"].read()


def state(api: Client, pid: str, member: str) -> tuple[str, list[str]]:
    view = api.call("GET", f"/programs/{pid}/members/{member}")[1]
    coupons = api.call("GET", f"/programs/{pid}/members/{member}/coupons")[1]["coupons"]
    return view["lifecycle_stage"], sorted(c["source"] for c in coupons if not c["source"].startswith("welcome"))


def test_churn_warning_win_back_and_recall(stack: Stack, api: Client) -> None:
    pid = f"c-{uuid.uuid4().hex[:10]}"
    assert put_program(api.base, pid, program("demo"))[0] == 200
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    for member in ("m1", "m2"):
        members.enrol(store, pid, Enrol(member_id=member), T0)
    earning.purchase(
        store, pid, "m2", Purchase(order_id="o-m2", amount_minor=1000), datetime(2026, 1, 30, 4, tzinfo=UTC)
    )

    sweep(stack, datetime(2026, 2, 9, 4, tzinfo=UTC))  # m1: 30 days idle since enrolment
    assert state(api, pid, "m1") == ("at_risk", ["churn_warning:2026-01-10"])
    assert state(api, pid, "m2") == ("active", [])
    before: Any = api.call("GET", f"/programs/{pid}/members/m1/ledger")[1]
    sweep(stack, datetime(2026, 2, 9, 4, tzinfo=UTC))  # the same time again: nothing changes
    assert state(api, pid, "m1") == ("at_risk", ["churn_warning:2026-01-10"])
    assert api.call("GET", f"/programs/{pid}/members/m1/ledger")[1] == before

    _, bought = earning.purchase(
        store, pid, "m1", Purchase(order_id="o-m1", amount_minor=1000), datetime(2026, 2, 12, 4, tzinfo=UTC)
    )
    assert bought.breakdown.multipliers == {"win_back": "2"} and bought.points_earned == 20
    assert state(api, pid, "m1")[0] == "active"  # a purchase moves the member back

    sweep(stack, datetime(2026, 3, 1, 4, tzinfo=UTC))  # m2: 30 days after its purchase
    assert state(api, pid, "m2") == ("at_risk", ["churn_warning:2026-01-30"])
    sweep(stack, datetime(2026, 4, 30, 4, tzinfo=UTC))  # m2: 90 days after its purchase
    assert state(api, pid, "m2") == ("recalled", ["churn_warning:2026-01-30", "recall:2026-01-30"])
    sweep(stack, datetime(2026, 4, 30, 4, tzinfo=UTC))
    assert state(api, pid, "m2") == ("recalled", ["churn_warning:2026-01-30", "recall:2026-01-30"])
