"""A checkout confirmed through the API moves the figures and announces itself: the table's stream
(moto's) fed to the real stream consumers, the health counter and the events publisher."""

from __future__ import annotations

from typing import Any

import boto3

from local.streams import as_delivered
from tests.handlers.conftest import Api
from tests.support import Context, load_function, program

M = "/programs/demo/members/m1"
NOTHING = {"member_price": 0, "campaigns": 0, "coupons": 0, "points": 0}


class Stream:
    """moto's stream of the table: `new()` answers the records since the last call."""

    def __init__(self) -> None:
        arn = boto3.client("dynamodb").describe_table(TableName="LoyaltyTable")["Table"]["LatestStreamArn"]
        # botocore now calls an account-based endpoint (…streams-ddb…) that moto does not route: name its own.
        self.streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]

    def new(self) -> list[dict[str, Any]]:
        got = self.streams.get_records(ShardIterator=self.iterator)
        self.iterator = got["NextShardIterator"]
        return as_delivered(got["Records"])


def test_a_confirmed_checkout_moves_the_figures_once_and_is_announced(api: Api) -> None:
    doc = program("demo")
    doc["campaigns"] += [
        {"id": "members", "name": "members", "trigger": "checkout", "effects": [{"member_price": True}]},
        {"id": "five-pct", "name": "5% off", "trigger": "checkout", "effects": [{"percent_off": 5}]},
    ]
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201
    [welcome] = api.call("members", "GET", f"{M}/coupons")[1]["coupons"]  # 10 off 50
    api.handlers["checkout"] = load_function("checkout").handler
    count, publish = load_function("count_health").handler, load_function("publish_events").handler
    stream = Stream()
    before = stream.new()  # the program and the enrolment

    def call(method: str, path: str, body: Any) -> tuple[int, Any]:
        return api.call("checkout", method, f"{M}/checkouts/c-1{path}", body)

    cart = {
        "items": [
            {"line_id": "1", "sku": "latte", "quantity": 2, "unit_price_minor": 3200, "member_price_minor": 2800}
        ],
        "coupon_ids": [welcome["coupon_id"]],
        "points_to_use": 100,
    }
    status, priced = call("PUT", "", cart)
    assert status == 200 and priced["total_minor"] == 6400 - 800 - 280 - 1000 - 100, priced
    assert call("PUT", "", cart)[0] == 200  # priced again: still open, nothing counted
    status, done = call("POST", "/confirm", {"order_id": "o-1", "amount_paid_minor": priced["total_minor"]})
    assert status == 201, done

    records = stream.new()
    assert count({"Records": before + records}, Context())["counted"] > 0
    assert count({"Records": records}, Context()) == {"counted": 0}  # delivered again: counted once
    status, health = api.call("programs", "GET", "/programs/demo/health")
    assert status == 200 and health["orders"] == 1
    assert health["discount_minor"] == {"member_price": 800, "campaigns": 280, "coupons": 1000, "points": 100}
    status, days = api.call("programs", "GET", "/programs/demo/health/days")
    assert [d["discount_minor"] for d in days["days"] if d["discount_minor"] != NOTHING] == [health["discount_minor"]]
    status, figures = api.call("programs", "GET", "/programs/demo/campaigns/five-pct")
    assert status == 200 and (figures["applications"], figures["discount_minor"], figures["orders"]) == (1, 280, 1)

    [confirmed] = [e for e in publish(records, Context()) if e["detail_type"] == "Checkout Confirmed"]
    assert confirmed["member_id"] == "m1" and confirmed["detail"] == {
        "checkout_id": "c-1",
        "order_id": "o-1",
        "subtotal_minor": 6400,
        "discount_minor": 2180,
        "total_minor": 4220,
        "points_used": 100,
        "coupons": [{"coupon_id": welcome["coupon_id"], "discount_minor": 1000}],
        "campaigns": [{"campaign_id": "five-pct", "discount_minor": 280}],
        "gifts": [],
    }
