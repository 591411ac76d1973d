"""Budgets at every grant site, under concurrency, through the real handlers on DynamoDB Local: a spent
budget skips the grant and never the rest of the write, and is never overspent (issue 14, section 3)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from local.dynamodb import client
from local.stack import Stack, put_program
from loyalty import clock
from loyalty.schemas import Enrol
from loyalty.store import Store
from loyalty.usecases import members
from tests.integration.conftest import Client, lambda_client
from tests.integration.test_expiry_sweep import scheduled
from tests.integration.test_parallel import parallel
from tests.support import program

N = 20


def fresh(api: Client, doc: dict[str, Any]) -> str:
    pid = f"bud-{uuid.uuid4().hex[:10]}"
    status, body = put_program(api.base, pid, doc)
    assert status == 200, body
    return pid


def coupons(api: Client, pid: str, member: str) -> list[dict[str, Any]]:
    status, body = api.call("GET", f"/programs/{pid}/members/{member}/coupons")
    assert status == 200, body
    return body["coupons"]


def taken(stack: Stack, pid: str, site: str, now: datetime) -> int:
    """What the site's budget item records for this month (test-only inspection)."""
    month = clock.month_key(clock.local_date(now, ZoneInfo("Asia/Shanghai")))
    key = {"pk": {"S": f"BUDGET#{pid}#{site}:{month}"}, "sk": {"S": "BUDGET"}}
    item = client(stack.ddb.endpoint).get_item(TableName="LoyaltyTable", Key=key, ConsistentRead=True)
    return int(item["Item"]["taken"]["N"])


def test_parallel_enrolments_take_exactly_the_welcome_budget(stack: Stack, api: Client) -> None:
    doc = program("demo")
    doc["lifecycle"]["welcome"]["budget"] = 3
    pid = fresh(api, doc)
    calls = [lambda i=i: api.call("POST", f"/programs/{pid}/members", {"member_id": f"m{i}"}) for i in range(N)]
    results = parallel(calls)
    assert [s for s, _ in results] == [201] * N, results  # every member enrolled
    packs = [c for i in range(N) for c in coupons(api, pid, f"m{i}") if c["source"].startswith("welcome:")]
    assert len(packs) == 3
    balances = sorted(body["points"]["balance"] for _, body in results)
    assert balances == [0] * (N - 3) + [100] * 3  # the pack's points went with its coupon
    assert taken(stack, pid, "welcome", clock.now()) == 3


def test_parallel_upgrades_take_exactly_the_upgrade_budget(stack: Stack, api: Client) -> None:
    doc = program("demo")
    doc["tiers"]["levels"][1]["on_upgrade"]["budget"] = 2
    pid = fresh(api, doc)
    for i in range(N):
        assert api.call("POST", f"/programs/{pid}/members", {"member_id": f"m{i}"})[0] == 201

    def buy(i: int) -> Any:
        order = {"order_id": f"o{i}", "amount_minor": 100000}
        return lambda: api.call("POST", f"/programs/{pid}/members/m{i}/purchases", order)

    results = parallel([buy(i) for i in range(N)])
    assert [s for s, _ in results] == [201] * N, results
    assert all(body["tier"] == "gold" and body["tier_changed"] for _, body in results)
    gifts = [c for i in range(N) for c in coupons(api, pid, f"m{i}") if c["source"].startswith("upgrade:")]
    assert len(gifts) == 2
    assert sum(len(body["coupons"]) for _, body in results) == 2


def test_parallel_card_purchases_take_exactly_the_pack_budget(stack: Stack, api: Client) -> None:
    doc = program("paid-card")
    doc["paid_cards"][1]["on_purchase"]["budget"] = 4  # the light card's pack
    pid = fresh(api, doc)
    for i in range(N):
        assert api.call("POST", f"/programs/{pid}/members", {"member_id": f"m{i}"})[0] == 201

    def pay(i: int) -> Any:
        body = {"payment_id": f"p{i}", "plan_id": "starter-pack", "amount_paid_minor": 990}
        return lambda: api.call("POST", f"/programs/{pid}/members/m{i}/paid-cards", body)

    results = parallel([pay(i) for i in range(N)])
    assert [s for s, _ in results] == [201] * N, results
    assert sorted(len(body["coupons"]) for _, body in results) == [0] * (N - 4) + [2] * 4


def test_a_parallel_sweep_takes_exactly_the_birthday_budget(stack: Stack, api: Client) -> None:
    doc = program("demo")
    doc["lifecycle"]["birthday"]["budget"] = 5
    doc["coupons"]["welcome-10"]["valid_days"] = 14
    doc["tiers"]["levels"][1].pop("every_month")
    pid = fresh(api, doc)
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    joined = datetime(2026, 3, 2, 4, tzinfo=UTC)
    for i in range(N):
        members.enrol(store, pid, Enrol(member_id=f"m{i}", birthday="1990-03-20"), joined)
    run = datetime(2026, 3, 3, 4, tzinfo=UTC)  # the benefit workers settle the shards in parallel
    reply = lambda_client(stack).invoke(FunctionName="IssueBenefitsFunction", Payload=json.dumps(scheduled(run)))
    assert "FunctionError" not in reply, reply["Payload"].read()
    gifts = [c for i in range(N) for c in coupons(api, pid, f"m{i}") if c["source"].startswith("birthday:")]
    assert len(gifts) == 5
    # Valid through the birthday month (Shanghai), though the template gives 14 days from the 3rd.
    assert {clock.parse(c["valid_until"]) for c in gifts} == {datetime(2026, 3, 31, 15, 59, 59, tzinfo=UTC)}
