"""The scheduled tier review through the Invoke API on DynamoDB Local: grace, one level, repeats."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from local.dynamodb import client
from local.stack import Stack, put_program
from loyalty.schemas import Enrol, Purchase
from loyalty.store import Store
from loyalty.usecases import earning, members
from tests.integration.conftest import Client, lambda_client
from tests.integration.test_expiry_sweep import scheduled
from tests.support import program


def review(stack: Stack, at: datetime) -> None:
    reply = lambda_client(stack).invoke(FunctionName="EvaluateTierFunction", Payload=json.dumps(scheduled(at)))
    assert "FunctionError" not in reply, reply["Payload"].read()


def test_scheduled_review_drops_one_level_after_the_grace(stack: Stack, api: Client) -> None:
    pid = f"t-{uuid.uuid4().hex[:10]}"
    assert put_program(api.base, pid, program("demo"))[0] == 200  # monthly reviews, grace 1, 6-month window
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    t0 = datetime(2026, 1, 5, 4, tzinfo=UTC)
    members.enrol(store, pid, Enrol(member_id="m1"), t0)
    earning.purchase(store, pid, "m1", Purchase(order_id="o1", amount_minor=600000), t0)  # straight to diamond

    def tier() -> str:
        return api.call("GET", f"/programs/{pid}/members/m1")[1]["tier"]["id"]

    for month in range(2, 8):  # monthly reviews while January's spend is in the window
        review(stack, datetime(2026, month, 5, 4, tzinfo=UTC))
    assert tier() == "diamond"
    review(stack, datetime(2026, 7, 5, 4, tzinfo=UTC))  # the same time again: counted once
    assert tier() == "diamond"
    review(stack, datetime(2026, 8, 5, 4, tzinfo=UTC))  # second review in a row under diamond
    assert tier() == "gold"  # one level, never two
