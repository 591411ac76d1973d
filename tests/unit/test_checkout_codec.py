"""A checkout's trees (cart, pricing, coupons read) are JSON text, zlib-packed into a binary attribute
past `PACK_OVER` bytes as a reference's answer is: a priced 20-line cart is 12 KB of text that the
confirm's transaction would carry and bill (2 WCU a KB), for a few KB packed. Either form reads back
the same, from the table and from a stream record (whose binary values are base64 text)."""

from __future__ import annotations

import base64
from typing import Any

from loyalty.store.codec import CHECKOUT_TEXT, PACK_OVER, as_text, decode_change, dump, from_text

LINES = [{"line_id": str(n), "sku": f"sku-{n}", "amount_minor": 1000 + n, "discounts": []} for n in range(40)]
TREES: dict[str, Any] = {"cart": {"items": LINES[:2]}, "priced": {"lines": LINES}, "coupons": []}


def test_a_tree_past_the_limit_is_packed_a_small_one_stays_text() -> None:
    stored = as_text({"status": "open", **TREES}, CHECKOUT_TEXT)
    assert isinstance(stored["priced"], bytes) and len(stored["priced"]) < PACK_OVER
    assert isinstance(stored["cart"], str) and isinstance(stored["coupons"], str)
    assert stored["status"] == "open"
    assert from_text(stored, CHECKOUT_TEXT) == {"status": "open", **TREES}


def test_a_stream_record_of_a_packed_checkout_reads_as_priced() -> None:
    item = dump({"pk": "MEMBER#p#m1", "sk": "CHECKOUT#k1", **as_text(TREES, CHECKOUT_TEXT)})
    wire = {k: {"B": base64.b64encode(v["B"]).decode()} if "B" in v else v for k, v in item.items()}
    record = decode_change({"eventID": "1", "dynamodb": {"NewImage": wire}})
    assert record is not None and record.kind == "checkout"
    assert {k: record.new[k] for k in TREES} == TREES
