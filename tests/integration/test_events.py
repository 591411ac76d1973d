"""Domain events from DynamoDB Local's table stream: what each committed write announces, and that a
refused or repeated write announces nothing (events come from committed items only)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from local.dynamodb import client, streams_client
from local.streams import as_delivered
from loyalty import events
from loyalty.errors import LoyaltyError
from loyalty.schemas import CouponUseBody, Enrol, Purchase, Redeem
from loyalty.store import Store
from loyalty.usecases import earning, members, programs, spending
from tests.integration.ddb_local import DynamoDBLocal
from tests.support import program

NOW = datetime(2026, 3, 10, 4, tzinfo=UTC)


class Stream:
    """Reads the table's stream from its start; `new()` answers the records since the last call."""

    def __init__(self, endpoint: str) -> None:
        self.ddb = client(endpoint)
        self.streams = streams_client(endpoint)
        self.arn = self.ddb.describe_table(TableName="LoyaltyTable")["Table"]["LatestStreamArn"]
        self.seen: set[str] = set()

    def new(self) -> list[dict[str, Any]]:
        out = []
        for shard in self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]:
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                got = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                out += [r for r in got["Records"] if r["eventID"] not in self.seen]
                iterator = got.get("NextShardIterator") if got["Records"] else None
        self.seen |= {r["eventID"] for r in out}
        return as_delivered(out)


def announced(records: list[dict[str, Any]], pid: str) -> Counter[str]:
    return Counter(e["detail_type"] for e in events.from_records(records) if e["program_id"] == pid)


def test_each_committed_write_announces_what_it_changed_and_nothing_else(ddb: DynamoDBLocal) -> None:
    store = Store("LoyaltyTable", client(ddb.endpoint))
    stream = Stream(ddb.endpoint)
    pid = f"v-{uuid.uuid4().hex[:10]}"
    programs.save(store, pid, program("demo"))
    stream.new()

    members.enrol(store, pid, Enrol(member_id="m1"), NOW)
    assert announced(stream.new(), pid) == {"Member Enrolled": 1, "Points Earned": 1, "Coupon Issued": 1}

    order = Purchase(order_id="o1", amount_minor=150000)
    earning.purchase(store, pid, "m1", order, NOW)
    # earn and first-order bonus, the upgrade to gold, its gift coupon
    assert announced(stream.new(), pid) == {"Points Earned": 2, "Tier Changed": 1, "Coupon Issued": 1}

    earning.purchase(store, pid, "m1", order, NOW)  # a repeat commits nothing...
    with pytest.raises(LoyaltyError):  # ...nor does a refusal
        spending.redeem(store, pid, "m1", Redeem(redemption_id="r1", reward_id="coupon-5", quantity=100), NOW)
    assert announced(stream.new(), pid) == {}

    coupon = store.coupons(pid, "m1")[0].coupon_id
    spending.use_coupon(store, pid, "m1", coupon, CouponUseBody(order_id="t1", order_amount_minor=9000), NOW)
    spending.redeem(store, pid, "m1", Redeem(redemption_id="r2", reward_id="coupon-5"), NOW)
    found = [e for e in events.from_records(stream.new()) if e["program_id"] == pid]
    assert Counter(e["detail_type"] for e in found) == {"Coupon Used": 1, "Points Redeemed": 1, "Coupon Issued": 1}
    used = next(e for e in found if e["detail_type"] == "Coupon Used")
    assert used["detail"]["coupon_id"] == coupon and used["detail"]["order_id"] == "t1"
    assert used["member_id"] == "m1" and used["event_id"] and used["source"] == events.SOURCE
    redeemed = next(e for e in found if e["detail_type"] == "Points Redeemed")
    assert redeemed["detail"]["points"] == -500 and redeemed["detail"]["ref"] == "redemption:r2"
    for event in found:  # every detail is exactly its documented schema
        model = events.DETAILS[event["detail_type"]]
        assert model.model_validate(event["detail"]).model_dump(mode="json") == event["detail"]


def test_the_local_runtime_shows_the_events_of_each_write(api: Any, pid: str) -> None:
    """The template's Pipe, locally: DynamoDB Local's stream -> PublishEventsFunction -> /_local/events."""
    import time

    seen = api.call("GET", "/_local/events")[1]["events"]
    last = seen[-1]["seq"] if seen else 0
    assert api.call("POST", f"/programs/{pid}/members", {"member_id": "m1"})[0] == 201
    order = {"order_id": "o1", "amount_minor": 150000}
    assert api.call("POST", f"/programs/{pid}/members/m1/purchases", order)[0] == 201
    assert api.call("POST", f"/programs/{pid}/members/m1/purchases", order)[0] == 200  # no second event
    expected = {"Member Enrolled": 1, "Points Earned": 3, "Coupon Issued": 2, "Tier Changed": 1}
    deadline = time.monotonic() + 30
    while True:
        found = [e for e in api.call("GET", f"/_local/events?since={last}")[1]["events"] if e["program_id"] == pid]
        if Counter(e["detail_type"] for e in found) == expected or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert Counter(e["detail_type"] for e in found) == expected
    assert all(e["member_id"] == "m1" and e["source"] == events.SOURCE for e in found)
