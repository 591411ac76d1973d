"""Monthly benefits through the Invoke API on DynamoDB Local: tier benefits, birthday, never twice."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from local.dynamodb import client
from local.stack import Stack, put_program
from loyalty.schemas import Enrol, Purchase
from loyalty.store import Store
from loyalty.usecases import earning, members
from tests.integration.conftest import Client, lambda_client
from tests.integration.test_expiry_sweep import scheduled
from tests.support import program


def run(stack: Stack, at: datetime) -> None:
    reply = lambda_client(stack).invoke(FunctionName="IssueBenefitsFunction", Payload=json.dumps(scheduled(at)))
    assert "FunctionError" not in reply, reply["Payload"].read()


def sources(api: Client, pid: str) -> list[str]:
    coupons = api.call("GET", f"/programs/{pid}/members/m1/coupons")[1]["coupons"]
    return sorted(c["source"] for c in coupons)


def test_tier_and_birthday_benefits_once_a_month(stack: Stack, api: Client) -> None:
    pid = f"b-{uuid.uuid4().hex[:10]}"
    assert put_program(api.base, pid, program("demo"))[0] == 200
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    members.enrol(store, pid, Enrol(member_id="m1", birthday="1990-02-14"), datetime(2026, 1, 10, 4, tzinfo=UTC))
    run(stack, datetime(2026, 1, 11, 4, tzinfo=UTC))  # a star in January: no monthly benefit, no birthday
    assert sources(api, pid) == ["welcome:m1"]
    earning.purchase(
        store, pid, "m1", Purchase(order_id="o1", amount_minor=150000), datetime(2026, 1, 12, 4, tzinfo=UTC)
    )

    run(stack, datetime(2026, 2, 1, 4, tzinfo=UTC))  # gold in February, the birthday month
    february = ["birthday:2026-02", "tier:gold:2026-02", "upgrade:gold:o1", "welcome:m1"]
    assert sources(api, pid) == february
    run(stack, datetime(2026, 2, 1, 4, tzinfo=UTC))
    run(stack, datetime(2026, 2, 2, 4, tzinfo=UTC))
    assert sources(api, pid) == february

    run(stack, datetime(2026, 3, 1, 4, tzinfo=UTC))
    # Settling a member brings every kind up to date: 48 idle days also earn the churn warning.
    assert sources(api, pid) == sorted([*february, "tier:gold:2026-03", "churn_warning:2026-01-12"])


def test_a_tag_s_benefit_once_a_month_for_members_holding_it(stack: Stack, api: Client) -> None:
    pid = f"t-{uuid.uuid4().hex[:10]}"
    doc = program("demo")
    doc["tag_benefits"] = {"baby": {"points": 20, "coupons": ["welcome-10"], "budget": 1000}}
    assert put_program(api.base, pid, doc)[0] == 200
    for member in ("m1", "m2"):
        assert api.call("POST", f"/programs/{pid}/members", {"member_id": member})[0] == 201
    status, body = api.call("PUT", f"/programs/{pid}/members/m1/tags", {"add": ["baby"]})
    assert (status, body["tags"]) == (200, ["baby"]), body
    assert api.call("GET", f"/programs/{pid}/members/m1")[1]["tags"] == ["baby"]

    def tag_coupons(member: str) -> list[str]:
        coupons = api.call("GET", f"/programs/{pid}/members/{member}/coupons")[1]["coupons"]
        return sorted(c["source"] for c in coupons if c["source"].startswith("tag:"))

    now = datetime.now(UTC)
    local = now.astimezone(ZoneInfo(doc["timezone"]))
    run(stack, now)
    assert tag_coupons("m1") == [f"tag:baby:{local:%Y-%m}"]
    run(stack, now)
    assert tag_coupons("m1") == [f"tag:baby:{local:%Y-%m}"]  # once a month however often it runs
    following = (local.replace(day=1, hour=12) + timedelta(days=32)).replace(day=1)
    run(stack, following.astimezone(UTC))
    assert tag_coupons("m1") == sorted([f"tag:baby:{local:%Y-%m}", f"tag:baby:{following:%Y-%m}"])
    assert tag_coupons("m2") == []  # never tagged
