"""The points sweep on DynamoDB Local, invoked through the Lambda Invoke API like a schedule would."""

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
from tests.support import program

T0 = datetime(2026, 1, 10, 15, tzinfo=UTC)  # New York time; points credited in January expire on 2026-02-28 (months: 1)


def scheduled(at: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": "000000000000",
        "time": at.isoformat().replace("+00:00", "Z"),
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }


def invoke(stack: Stack, at: datetime) -> dict[str, Any]:
    lam = lambda_client(stack)
    reply = lam.invoke(FunctionName="ExpirePointsFunction", Payload=json.dumps(scheduled(at)))
    assert "FunctionError" not in reply, reply["Payload"].read()
    return json.loads(reply["Payload"].read())


def test_sweep_expires_reminds_and_repeats_as_a_no_op(stack: Stack, api: Client) -> None:
    doc = program("points-only")
    doc["points"]["expiry"] = {"policy": "rolling_months", "months": 1}
    pid = f"x-{uuid.uuid4().hex[:10]}"
    assert put_program(api.base, pid, doc)[0] == 200
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    members.enrol(store, pid, Enrol(member_id="m1"), T0)  # 50 welcome points, expire 2026-02-28
    # February's 10 points (no first-order bonus: more than 7 days after enrolment) expire 2026-03-31.

    def notices() -> list[dict[str, Any]]:
        return store._query(f"MEMBER#{pid}#m1", "NOTICE#", 10, None, newest_first=False)[0]

    def ledger() -> list[dict[str, Any]]:
        return api.call("GET", f"/programs/{pid}/members/m1/ledger")[1]["entries"]

    dead_before = stack.queues.depth("WorkDeadLetterQueue")
    planned = invoke(stack, datetime(2026, 1, 30, 12, tzinfo=UTC))  # 30 days before 2026-02-28
    assert planned["planned"] > 0 and stack.queues.depth("WorkQueue") == 0  # the invoke waited for the work
    assert [(n["points"], n["expires_on"]) for n in notices()] == [(50, "2026-02-28")]
    invoke(stack, datetime(2026, 1, 30, 12, tzinfo=UTC))  # the same time again: nothing more
    assert len(notices()) == 1
    earning.purchase(store, pid, "m1", Purchase(order_id="o1", amount_minor=1000), datetime(2026, 2, 3, tzinfo=UTC))

    invoke(stack, datetime(2026, 3, 1, 12, tzinfo=UTC))
    after = ledger()
    assert (after[0]["type"], after[0]["points"], after[0]["balance_after"]) == ("expire", -50, 10)
    assert after[0]["reason"] == "expire" and after[0]["actor"] is None  # the sweep kind that wrote it
    # settling the expiry made the next bucket's reminder due, and it went out in the same run
    assert [(n["points"], n["expires_on"]) for n in notices()] == [(50, "2026-02-28"), (10, "2026-03-31")]
    invoke(stack, datetime(2026, 3, 1, 12, tzinfo=UTC))
    assert ledger() == after and len(notices()) == 2

    invoke(stack, datetime(2026, 4, 3, 12, tzinfo=UTC))  # a missed day is caught up (lookback)
    assert (ledger()[0]["type"], ledger()[0]["balance_after"]) == ("expire", 0)
    assert stack.queues.depth("WorkDeadLetterQueue") == dead_before
