"""The item codec: Python values <-> DynamoDB's attribute form, and what the table's stream and a page
cursor carry."""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic_core import from_json, to_json

from ..records import StreamRecord
from .keys import KINDS_BY_SK

_ser = TypeSerializer()
NUMBER_LIMIT = 10**38  # DynamoDB's numbers carry 38 digits; the library refuses longer ones
_de = TypeDeserializer()


def dump(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _attribute(v) for k, v in item.items()}


def _attribute(value: Any) -> dict[str, Any]:  # noqa: PLR0911 - one return per type
    """One value as TypeSerializer writes it, in a single pass for the types we store: TypeSerializer
    tries every type in turn for each value, and was a quarter of a warm purchase's Python."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):  # before int: a bool is an int
        return {"BOOL": value}
    if isinstance(value, int) and -NUMBER_LIMIT < value < NUMBER_LIMIT:
        return {"N": str(value)}
    if isinstance(value, dict):
        return {"M": {k: _attribute(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"L": [_attribute(v) for v in value]}
    if value is None:
        return {"NULL": True}
    return _ser.serialize(value)  # sets, Decimal, bytes, a number too long: the library's encoding


# A reference's stored answer past this many bytes is kept compressed (zlib, a binary attribute): a
# confirmed checkout's answer carries its priced lines (10 KB for 20), billed at 2 WCU a KB.
PACK_OVER = 2048


def packed(text: str | bytes) -> str | bytes:
    raw = text.encode() if isinstance(text, str) else text
    return zlib.compress(raw, 1) if len(raw) > PACK_OVER else raw.decode()


def packed_json(value: Any) -> str | bytes:
    """A value as JSON text, packed past PACK_OVER: pydantic-core's encoder, which writes a model or a
    datetime in a tree as model_dump(mode="json") does, in a quarter of the time of model_dump + json.dumps."""
    return packed(to_json(value))


# A checkout's trees (the cart, its pricing, the coupons read), kept as JSON text as a reference keeps
# its response: each is read and written whole, never queried, and a priced 20-line cart is hundreds
# of nested attributes that DynamoDB (and botocore) would otherwise walk one by one on every write.
# Past PACK_OVER a tree is packed as a reference's answer is: the 20-line pricing is 10 KB of text, 2 KB
# packed, and DynamoDB Local's time for a transaction (AWS's bill too) grows with its items' bytes.
CHECKOUT_TEXT = ("cart", "priced", "coupons")


def as_text(fields: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: packed_json(v) if k in names else v for k, v in fields.items()}


def from_text(fields: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: _tree(v) if k in names and isinstance(v, str | bytes | bytearray) else v for k, v in fields.items()}


def _tree(stored: str | bytes | bytearray) -> Any:
    return from_json(zlib.decompress(stored) if isinstance(stored, bytes | bytearray) else stored)


def unpacked_ref(item: dict[str, Any]) -> dict[str, Any]:
    """A reference as read: its answer as JSON text, whether stored packed or not."""
    raw = item.get("response")
    if isinstance(raw, bytes | bytearray):
        return {**item, "response": zlib.decompress(raw).decode()}
    return item


def load(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in item.items()}


def _value(attribute: dict[str, Any]) -> Any:  # noqa: PLR0911 - one return per type
    """One attribute as TypeDeserializer + `plain` give it, in a single pass for the types we store:
    this runs on every item of every read, and the two-pass form was a tenth of a warm read's Python."""
    for tag, raw in attribute.items():  # exactly one
        if tag in ("S", "BOOL"):
            return raw
        if tag == "N":
            return int(raw) if raw.isdigit() else plain(_de.deserialize(attribute))  # negative, or not whole
        if tag == "M":
            return {k: _value(v) for k, v in raw.items()}
        if tag == "L":
            return [_value(v) for v in raw]
        if tag == "NULL":
            return None
        if tag == "B":  # botocore gives bytes; a stream record as Lambda delivers it, base64 text
            return raw if isinstance(raw, bytes | bytearray) else base64.b64decode(raw)
    return plain(_de.deserialize(attribute))  # sets, binary, a decimal: the library's decoding


def plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; everything we store as a number is an integer."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if hasattr(value, "to_integral_value"):
        return int(value)
    return value


# References whose changes the health counter reads: an order's (its refunds), a redemption cancel's
# and a referral cancel's (what they took back of their campaigns' points).
REF_STREAM_KINDS = frozenset({"order", "redemption_cancel", "referral", "referral_cancel"})


def decode_change(record: dict[str, Any]) -> StreamRecord | None:
    """A DynamoDB stream record (as Lambda and Pipes deliver it) -> what changed: a member's item, or
    an order's or a redemption cancel's reference (REF_STREAM_KINDS; a guest order's: "guest_order"), an
    activity's (its shadow run's figures), a
    guest customer ("guest"), or an erasure (its pseudonymised profile, kind "erasure");
    None for anything else (programs, budgets, stock, stats, an erased member's moved items)."""
    images = record.get("dynamodb", {})
    new = load(images["NewImage"]) if images.get("NewImage") else None
    old = load(images["OldImage"]) if images.get("OldImage") else None
    item = new or old or {}
    pk = str(item.get("pk", ""))
    parts = pk.split("#")
    if parts[0] == "REF" and len(parts) == 4 and parts[2] in REF_STREAM_KINDS:
        kind, pid, mid = parts[2], parts[1], item.get("member_id")
        kind = "guest_order" if item.get("guest") else kind  # a non-member's order (store/guests.py)
    elif parts[0] == "REF" and len(parts) >= 4 and parts[2] == "activity":  # the server's or the member's own
        kind, pid, mid = "activity", parts[1], item.get("member_id")
    elif parts[0] == "GUEST" and len(parts) == 3:
        kind, pid, mid = "guest", parts[1], None
    elif pk.startswith("MEMBER#"):
        _, pid, mid = pk.split("#", 2)
        sk = str(item.get("sk", ""))
        kind = next((k for prefix, k in KINDS_BY_SK.items() if sk.startswith(prefix)), "other")
        if "erased_at" in item:  # an erased member's items under its pseudonym (store/erasure.py)
            if kind != "member" or old is not None or new is None:
                return None  # copies moved there: not new points, coupons or events
            kind = "erasure"
    else:
        return None
    if kind == "checkout":  # its trees as the readers know them, not as stored
        new, old = (from_text(i, CHECKOUT_TEXT) if i else None for i in (new, old))
    created = images.get("ApproximateCreationDateTime")
    return StreamRecord(
        kind=kind,
        program_id=pid,
        member_id=mid,
        new=new,
        old=old,
        event_id=str(record.get("eventID", "")),
        committed=datetime.fromtimestamp(float(created), UTC) if created is not None else None,
    )


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(load(key), separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str, pk: str, prefix: str) -> dict[str, Any] | None:
    """The ExclusiveStartKey behind a cursor, or None when it is not one of ours for this partition."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(key, dict) or set(key) != {"pk", "sk"} or key["pk"] != pk:
        return None
    if not isinstance(key["sk"], str) or not key["sk"].startswith(prefix):
        return None
    return dump(key)
