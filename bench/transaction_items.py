"""`make bench-checkout`, second part: what a transaction's items cost DynamoDB Local, by their number,
their kind, their conditions and their size, so the checkout bench's floor has a cause one can see.

Plain boto3 against a fresh DynamoDB Local with the template's table (its stream and index as
deployed). Each round seeds a member partition (a 1.5 KB profile, two coupons, a 2.8 KB checkout),
then times one TransactWriteItems of each shape, in a shuffled order. The shapes are a purchase's 4
items and a confirm's 8 (profile, two ledger entries, the order's reference, two coupon updates, the
checkout's closing, the audit), then the confirm's with one thing changed at a time.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from local.dynamodb import DynamoDBLocal, client  # noqa: E402
from tests.integration.ddb_local import create_template_tables  # noqa: E402

from .common import pct  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ITEMS_ROUNDS", "300"))
TABLE = "LoyaltyTable"
NEW = "attribute_not_exists(pk)"
Item = dict[str, Any]


def text(size: int) -> Item:
    return {"S": "x" * size}


def put(pk: str, sk: str, size: int, condition: str | None = NEW, **more: Any) -> Item:
    body: Item = {"TableName": TABLE, "Item": {"pk": {"S": pk}, "sk": {"S": sk}, "blob": text(size)}, **more}
    if condition:
        body["ConditionExpression"] = condition
    return {"Put": body}


def profile(pk: str, conditional: bool = True) -> Item:
    item = put(pk, "PROFILE", 1450, None)
    item["Put"]["Item"]["version"] = {"N": "2"}
    if conditional:
        item["Put"] |= {"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}}
    return item


def coupon_use(pk: str, coupon: str, conditional: bool = True) -> Item:
    update: Item = {
        "TableName": TABLE,
        "Key": {"pk": {"S": pk}, "sk": {"S": f"COUPON#{coupon}"}},
        "UpdateExpression": "SET #st = :used, used_order_id = :o",
        "ExpressionAttributeNames": {"#st": "status"},
        "ExpressionAttributeValues": {":used": {"S": "used"}, ":o": {"S": "o1"}},
    }
    if conditional:
        update["ConditionExpression"] = "#st = :available"
        update["ExpressionAttributeValues"][":available"] = {"S": "available"}
    return {"Update": update}


def checkout_close(pk: str) -> Item:
    update = {
        "TableName": TABLE,
        "Key": {"pk": {"S": pk}, "sk": {"S": "CHECKOUT#k"}},
        "UpdateExpression": "SET #st = :c, order_id = :o",
        "ExpressionAttributeNames": {"#st": "status"},
        "ExpressionAttributeValues": {":c": {"S": "confirmed"}, ":o": {"S": "o1"}},
    }
    return {"Update": update}


def purchase(pk: str) -> list[Item]:
    ref = put(f"REF#{pk}", "REF", 1200, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    return [profile(pk), put(pk, "LEDGER#1", 120), ref, put(pk, "AUDIT#1", 100)]


def confirm(pk: str, ref_size: int = 3000, conditional: bool = True, coupons_conditional: bool = True) -> list[Item]:
    ref = put(f"REF#{pk}", "REF", ref_size, NEW if conditional else None)
    coupons_conditional = coupons_conditional and conditional
    return [
        profile(pk, conditional),
        put(pk, "LEDGER#1", 120, NEW if conditional else None),
        put(pk, "LEDGER#2", 120, NEW if conditional else None),
        ref,
        coupon_use(pk, "a", coupons_conditional),
        coupon_use(pk, "b", coupons_conditional),
        checkout_close(pk),
        put(pk, "AUDIT#1", 100, NEW if conditional else None),
    ]


SHAPES: dict[str, Callable[[str], list[Item]]] = {
    "purchase (4 items)": purchase,
    "confirm (8 items)": confirm,
    "confirm, no condition on any item": lambda pk: confirm(pk, conditional=False),
    "confirm, its coupon updates unconditional": lambda pk: confirm(pk, coupons_conditional=False),
    "confirm, its reference 1.2 KB not 3 KB": lambda pk: confirm(pk, ref_size=1200),
    "confirm less the checkout (7 items)": lambda pk: confirm(pk)[:6] + confirm(pk)[7:],
    "confirm less the coupons (6 items)": lambda pk: confirm(pk)[:4] + confirm(pk)[6:],
    "purchase + 1 ledger entry (5 items)": lambda pk: [*purchase(pk), put(pk, "LEDGER#2", 120)],
}


def seed(ddb: Any, pk: str) -> None:
    items = [profile(pk, False), put(pk, "COUPON#a", 250, None), put(pk, "COUPON#b", 250, None)]
    items.append(put(pk, "CHECKOUT#k", 2800, None))
    for item in items:
        item["Put"]["Item"].get("version", {}).update({"N": "1"})
        item["Put"]["Item"]["status"] = {"S": "available"}
    ddb.transact_write_items(TransactItems=items)


def main() -> None:
    local = DynamoDBLocal(port=None).start()
    try:
        create_template_tables(local)
        ddb = client(local.endpoint)
        times: dict[str, list[float]] = {name: [] for name in SHAPES}
        for r in range(-20, ROUNDS):  # the first 20 warm the JVM, untimed
            for name in random.sample(list(SHAPES), len(SHAPES)):
                pk = f"M#{r}#{name}"
                seed(ddb, pk)
                start = time.perf_counter()
                ddb.transact_write_items(TransactItems=SHAPES[name](pk))
                if r >= 0:
                    times[name].append((time.perf_counter() - start) * 1000)
    finally:
        local.stop()
    base = pct(times["purchase (4 items)"], 50)
    lines = [
        f"One TransactWriteItems, plain boto3, DynamoDB Local with the template's table, p50 of {ROUNDS}:",
        "",
        "| transaction | p50 ms | against the purchase's |",
        "| --- | --- | --- |",
        *[f"| {name} | {pct(t, 50):.2f} | {pct(t, 50) / base:.2f}x |" for name, t in times.items()],
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
