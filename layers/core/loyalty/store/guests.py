"""Guest orders: a non-member's order (its reference, in the orders' id space) and the guest customer
item it updates; no member partition is touched (API.md "Referral, and where members come from")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .. import clock
from .codec import dump, load, packed_json, unpacked_ref
from .keys import guest_key, ref_key, refcode_key
from .table import NEW, RefExists, Stale, Table

GUEST_ORDER = "order"  # an order id is the program's, a member's purchase or a guest's: one id space


class Guests(Table):
    def record_guest_order(self, pid: str, order: dict[str, Any], customer_ref: str | None, at: datetime) -> None:
        """The guest order's reference and, with a customer_ref, its guest customer item, in one
        transaction. RefExists (with what is stored) when the order id was used already, by a guest
        or a member; Stale on a transaction conflict (the caller tries again)."""
        items = [self._guest_ref(pid, order)]
        if customer_ref is not None:
            items.append(self._guest_update(pid, customer_ref, int(order["order_minor"]), at))
        reasons = self._transact(items)
        if reasons is None:
            return
        if reasons[0].get("Code") == "ConditionalCheckFailed":
            old = reasons[0].get("Item")
            existing = unpacked_ref(load(old)) if old else self.guest_order(pid, str(order["order_id"]))
            if existing is not None:
                raise RefExists(existing)
        raise Stale(set())  # a transaction conflict: worth a wait and another try

    def guest_order(self, pid: str, order_id: str) -> dict[str, Any] | None:
        """The order reference of that id, a guest's or a member's (strongly consistent)."""
        item_key = dump(ref_key(pid, GUEST_ORDER, order_id))
        got = self.client.get_item(TableName=self.table, Key=item_key, ConsistentRead=True)
        return unpacked_ref(load(got["Item"])) if "Item" in got else None

    def enrolment_reads(
        self, pid: str, customer_ref: str | None, code: str | None
    ) -> tuple[dict[str, Any] | None, str | None]:
        """What an enrolment reads before its write: the guest customer item of `customer_ref` (None if
        it never ordered as a guest) and the member referral `code` is (None: unclaimed). Strongly
        consistent, in one round trip: a GetItem for one, a BatchGetItem for both, none for neither."""
        keys = [k for k in (customer_ref and guest_key(pid, customer_ref), code and refcode_key(pid, code)) if k]
        if len(keys) == 1:
            got = self.client.get_item(TableName=self.table, Key=dump(keys[0]), ConsistentRead=True)
            found = [load(got["Item"])] if "Item" in got else []
        else:
            found = self._batch_get([dump(k) for k in keys]) if keys else []
        by_pk = {str(item["pk"]): item for item in found}
        guest = by_pk.get(guest_key(pid, customer_ref)["pk"]) if customer_ref else None
        owner = by_pk.get(refcode_key(pid, code)["pk"]) if code else None
        return guest, str(owner["member_id"]) if owner else None

    def _guest_ref(self, pid: str, order: dict[str, Any]) -> dict[str, Any]:
        item = {
            **ref_key(pid, GUEST_ORDER, str(order["order_id"])),
            "type": "ref",
            "guest": True,
            "member_id": None,  # no member's: a refund naming it finds another member's order (404)
            **{k: v for k, v in order.items() if k != "response"},
            "response": packed_json(order["response"]),
        }
        put = {"TableName": self.table, "Item": dump(item), "ConditionExpression": NEW}
        return {"Put": {**put, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}

    def _guest_update(self, pid: str, customer_ref: str, amount: int, at: datetime) -> dict[str, Any]:
        """First recorded order kept (the conversion's "before" and the day it is counted on), orders
        and GMV added."""
        update = {
            "TableName": self.table,
            "Key": dump(guest_key(pid, customer_ref)),
            "UpdateExpression": "SET first_order_at = if_not_exists(first_order_at, :at), #t = :t "
            "ADD orders :one, gmv_minor :amount",
            "ExpressionAttributeNames": {"#t": "type"},
            "ExpressionAttributeValues": dump({":at": clock.iso(at), ":t": "guest", ":one": 1, ":amount": amount}),
        }
        return {"Update": update}


def guest_converted(table: str, pid: str, customer_ref: str, at: datetime) -> tuple[str, dict[str, Any]]:
    """In an enrolment's transaction: the guest customer it names became a member at `at` (kept once:
    a second member naming the same customer_ref converts nothing more)."""
    update = {
        "TableName": table,
        "Key": dump(guest_key(pid, customer_ref)),
        "UpdateExpression": "SET converted_at = if_not_exists(converted_at, :at)",
        "ExpressionAttributeValues": dump({":at": clock.iso(at)}),
    }
    return "guest", {"Update": update}
