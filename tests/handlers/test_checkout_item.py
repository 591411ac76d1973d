"""The checkout item keeps its trees (cart, pricing, coupons read) as JSON text, as a reference keeps
its response: a priced 20-line cart is hundreds of nested attributes DynamoDB would otherwise walk on
every write (bench/checkout.py: the PUT's transaction fell from 40 to 6 ms on DynamoDB Local)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from tests.handlers.conftest import Api
from tests.support import Context, http_event, load_function

M = "/programs/demo/members/m1"
CART = {
    "items": [
        {"line_id": "1", "sku": "latte", "category": "coffee", "quantity": 2, "unit_price_minor": 3200},
        {"line_id": "2", "sku": "cake", "category": "cake", "quantity": 1, "unit_price_minor": 2500},
    ],
    "store_id": "sh-01",
}


def checkout(method: str, path: str, body: Any = None) -> tuple[int, Any]:
    reply = load_function("checkout").handler(http_event(method, path, body), Context())
    return reply["statusCode"], json.loads(reply["body"])


def test_a_checkout_is_stored_as_text_and_reads_back_as_priced(api: Api, demo: str) -> None:
    api.call("enrol", "POST", f"/programs/{demo}/members", {"member_id": "m1"})
    coupon = api.call("members", "GET", f"{M}/coupons")[1]["coupons"][0]["coupon_id"]
    status, priced = checkout("PUT", f"{M}/checkouts/k1", CART | {"coupon_ids": [coupon]})
    assert status == 200, priced

    item = boto3.client("dynamodb").get_item(
        TableName="LoyaltyTable", Key={"pk": {"S": f"MEMBER#{demo}#m1"}, "sk": {"S": "CHECKOUT#k1"}}
    )["Item"]
    assert {name: next(iter(item[name])) for name in ("cart", "priced", "coupons")} == {
        "cart": "S",
        "priced": "S",
        "coupons": "S",
    }
    assert checkout("GET", f"{M}/checkouts/k1") == (200, priced)
    status, done = checkout(
        "POST", f"{M}/checkouts/k1/confirm", {"order_id": "o1", "amount_paid_minor": priced["total_minor"]}
    )
    assert status == 201, done
    assert checkout("GET", f"{M}/checkouts/k1")[1]["status"] == "confirmed"
