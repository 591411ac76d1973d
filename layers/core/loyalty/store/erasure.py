"""An erasure: the member's partition moved under an irreversible pseudonym, with no personal data.

It is the one write that leaves a member's partition, so it builds its own transaction (from the
builders of writes.py) rather than going through `Store.commit`:

1. `erase`, one transaction: the profile deleted (guarded by the version read) and its pseudonymised
   copy written (in no audience), the `adjust` entry that takes the balance out of the liability, the
   member's DUE and audience (IN) items deleted, its unused coupons revoked, the ERASED marker written
   with `pending`, and the FORMER marker (a keyed hash of the id, kept: a later enrolment of the id
   gets no second welcome).
2. `move`: the rest of the partition (ledger, coupons, tier history, audit trail) copied under the
   pseudonym, marked `erased_at` and with the member id replaced; the references that name the member
   re-pointed (one whose id names it, a coupon's use, moved to the pseudonym's id; those of its own
   writes, keyed under the member id, moved under the pseudonym's); then the items deleted, with the
   notices (messages to the person, already published); then the marker's `pending` and its pseudonym
   removed, so nothing left in the table links the member id to the pseudonym. Every step is
   idempotent: a repeat finds less to do.

An enrolment of the same id checks the marker in its own transaction (`writes.not_erasing`), so a new
member never shares the partition with items still being moved. The copies' `erased_at` tells the
stream's consumers to skip them (codec.decode_change): they are not new points or coupons.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ..member import AuditEntry, LedgerEntry, Profile
from ..program import TRANSACTION_ITEMS
from .codec import dump, load
from .keys import (
    PROFILE_SK,
    TILL_COUPONS,
    audience_sk,
    coupon_use_id,
    due_sk,
    erased_key,
    former_key,
    key,
    member_pk,
    ref_key,
)
from .reads import Reads
from .table import NEW, Stale
from .writes import CouponRevoke, Labelled, audit_put, coupon_revokes, entry_puts

COPIED = ("LEDGER#", "COUPON#", "TIER#", "AUDIT#")  # what the pseudonym keeps; notices and DUE items go
REF_KINDS = frozenset({"order", "refund", "activity", "redemption", "payment", "card_refund", "adjustment"})
BATCH_WRITES = 25  # BatchWriteItem's requests per call
KEEP_MARKER_SECONDS = 30 * 86400  # how long a repeated DELETE still answers the first result


@dataclass
class Erasure:
    read: Profile  # the profile as read: its version guards the transaction
    erased: Profile  # the pseudonymised profile (member_id: the pseudonym), as rules/erasure made it
    entries: list[LedgerEntry]  # the adjust taking the balance out (and any expiry due first)
    revoke: CouponRevoke
    response: dict[str, Any]  # what the request answers, kept on the marker for repeats
    member_key: str  # the program's secret for the FORMER marker's keyed hash of the id
    audit: AuditEntry | None = None  # who erased it: kept under the pseudonym


def _erased(response: dict[str, Any], at: str) -> dict[str, Any]:
    """What the pseudonymised profile says of its erasure (the Member Erased event's fields)."""
    return {
        "erased_at": at,
        "points_removed": response["points_removed"],
        "coupons_revoked": response["coupons_revoked"],
    }


def _scrub(value: Any, mid: str, pseudonym: str) -> Any:
    """The member id replaced wherever it is one of a value's `:`-separated parts (`member_id`,
    `member:m1` actors, `welcome:m1` sources)."""
    if isinstance(value, str):
        return ":".join(pseudonym if part == mid else part for part in value.split(":")) if mid in value else value
    if isinstance(value, dict):
        return {k: _scrub(v, mid, pseudonym) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, mid, pseudonym) for v in value]
    return value


def _copy(item: dict[str, Any], pk: str, mid: str, pseudonym: str, at: str) -> dict[str, Any]:
    return {**_scrub(item, mid, pseudonym), "pk": pk, "sk": item["sk"], "erased_at": at}


class Erasures(Reads):
    def erasure(self, pid: str, mid: str) -> dict[str, Any] | None:
        """The marker of the member id's last erasure, if any (strongly consistent)."""
        got = self.client.get_item(TableName=self.table, Key=dump(erased_key(pid, mid)), ConsistentRead=True)
        return load(got["Item"]) if "Item" in got else None

    def erase(self, pid: str, erasure: Erasure, at: str) -> None:
        """Step 1, all or nothing; Stale when the member changed since it was read (or a coupon was
        used meanwhile): the caller reads again."""
        mid, pseudonym = erasure.read.member_id, erasure.erased.member_id
        old_pk, new_pk = member_pk(pid, mid), member_pk(pid, pseudonym)
        profile = {
            "pk": new_pk,
            "sk": PROFILE_SK,
            "type": "member",
            **erasure.erased.model_dump(mode="json"),
            "audiences": [],
        }
        marker = {
            **erased_key(pid, mid),
            "type": "erased",
            "pseudonym": pseudonym,
            "erased_at": at,
            "pending": True,
            "response": json.dumps(erasure.response, separators=(",", ":")),
        }
        former = former_key(pid, mid, erasure.member_key)
        items: list[Labelled] = [
            ("profile", self._delete(old_pk, PROFILE_SK, "version = :v", {":v": erasure.read.version})),
            (
                "pseudonym",
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": dump({**profile, **_erased(erasure.response, at)}),
                        "ConditionExpression": NEW,
                    }
                },
            ),
            *entry_puts(self.table, new_pk, erasure.entries),
            *[("due", self._delete(old_pk, due_sk(kind))) for kind in sorted(erasure.read.due_days)],
            # Out of every audience at once (the pseudonym is in none: its profile holds no entries).
            *[("audience", self._delete(old_pk, audience_sk(e))) for e in erasure.read.audiences or ()],
            ("erasure", self._marker_put(marker)),
            ("former", {"Put": {"TableName": self.table, "Item": dump({**former, "type": "former"})}}),
        ]
        if erasure.audit is not None:
            items.append(audit_put(self.table, pid, pseudonym, erasure.audit))
        revokes = coupon_revokes(self.table, old_pk, erasure.revoke)
        room = TRANSACTION_ITEMS - len(items)
        for at_ in range(room, len(revokes), TRANSACTION_ITEMS):  # a wallet too big for one transaction
            if self._transact([item for _, item in revokes[at_ : at_ + TRANSACTION_ITEMS]]) is not None:
                raise Stale({"coupon"})
        items += revokes[:room]
        reasons = self._transact([item for _, item in items])
        if reasons is not None:
            labels = [label for label, _ in items]
            raise Stale(
                {label for label, r in zip(labels, reasons, strict=False) if r.get("Code") == "ConditionalCheckFailed"}
            )

    def move(self, pid: str, mid: str, pseudonym: str, at: str) -> None:
        """Step 2: what is left under the member id goes under the pseudonym (or goes), then the
        marker forgets the pseudonym. Cost: per item of the member, one write to copy it (if kept) and
        one to delete it; per reference, one conditional update (one whose id names the member: a read
        and a transaction of two writes)."""
        old_pk, new_pk = member_pk(pid, mid), member_pk(pid, pseudonym)
        items = self._every("pk = :pk", {":pk": old_pk})
        copies = [_copy(i, new_pk, mid, pseudonym, at) for i in items if str(i["sk"]).startswith(COPIED)]
        self._batch_write([{"PutRequest": {"Item": dump(c)}} for c in copies])
        # References before the deletes: a repeat after a crash still finds the items that name them.
        self._move_own_refs(pid, mid, pseudonym, _own_refs(items, mid))
        for kind, ref_id in sorted(_refs(items, mid)):
            # A reference of the member's (an order a refund may still name) names the pseudonym.
            # Its actor may be the member (`member:<id>`): the audit copies keep who, scrubbed.
            moved = _scrub(ref_id, mid, pseudonym)
            if moved != ref_id:
                self._move_ref(pid, kind, ref_id, moved, mid, pseudonym)
                continue
            self._update_if(
                ref_key(pid, kind, ref_id),
                "SET member_id = :p REMOVE actor",
                "member_id = :m",
                {":p": pseudonym, ":m": mid},
            )
        self._batch_write([{"DeleteRequest": {"Key": key(old_pk, str(i["sk"]))}} for i in items])
        ttl = int(datetime.fromisoformat(at).timestamp()) + KEEP_MARKER_SECONDS
        self._update_if(
            erased_key(pid, mid),
            "SET pending = :false, expires_at = :ttl REMOVE pseudonym",
            "pseudonym = :p",  # not a later erasure's marker, nor one done already
            {":false": False, ":ttl": ttl, ":p": pseudonym},
        )

    def _move_own_refs(self, pid: str, mid: str, pseudonym: str, refs: set[tuple[str, str]]) -> None:
        """The references of the member's own writes are keyed under its id (keys.ref_key): copied under
        the pseudonym's key, then deleted (a repeat after a crash copies again what is still there)."""
        found = self._batch_get([dump(ref_key(pid, kind, ref_id, mid)) for kind, ref_id in sorted(refs)])
        copies, deletes = [], []
        for item in found:
            kind, ref_id = _own_ref(str(item["pk"]), pid, mid)
            copy = {k: v for k, v in item.items() if k != "actor"}
            copies.append({**copy, **ref_key(pid, kind, ref_id, pseudonym), "member_id": pseudonym})
            deletes.append({"DeleteRequest": {"Key": dump({"pk": item["pk"], "sk": item["sk"]})}})
        self._batch_write([{"PutRequest": {"Item": dump(c)}} for c in copies])
        self._batch_write(deletes)

    # ---- the calls it makes ---------------------------------------------------------------------

    def _delete(
        self, pk: str, sk: str, condition: str | None = None, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        delete: dict[str, Any] = {"TableName": self.table, "Key": key(pk, sk)}
        if condition:
            delete["ConditionExpression"] = condition
            delete["ExpressionAttributeValues"] = dump(values or {})
        return {"Delete": delete}

    def _marker_put(self, marker: dict[str, Any]) -> dict[str, Any]:
        """A member id erased before (then enrolled again) has a marker already: replaced once done."""
        return {
            "Put": {
                "TableName": self.table,
                "Item": dump(marker),
                "ConditionExpression": "attribute_not_exists(pk) OR pending = :false",
                "ExpressionAttributeValues": dump({":false": False}),
            }
        }

    def _move_ref(self, pid: str, kind: str, ref_id: str, moved: str, mid: str, pseudonym: str) -> None:
        """A reference whose id names the member (a coupon's use, `{mid}:{coupon_id}`) goes under the
        pseudonym's id, so the same member id enrolled again never finds it as its own: copied and
        deleted in one transaction, only while it is still the member's (a repeat finds it gone)."""
        old = ref_key(pid, kind, ref_id)
        got = self.client.get_item(TableName=self.table, Key=dump(old), ConsistentRead=True)
        if "Item" not in got:
            return
        item = {k: v for k, v in load(got["Item"]).items() if k != "actor"}
        copy = {**item, **ref_key(pid, kind, moved), "member_id": pseudonym}
        put = {"Put": {"TableName": self.table, "Item": dump(copy)}}
        self._transact([put, self._delete(old["pk"], old["sk"], "member_id = :m", {":m": mid})])

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for at in range(0, len(requests), BATCH_WRITES):
            pending: dict[str, Any] = {self.table: requests[at : at + BATCH_WRITES]}
            while pending:
                got = self.client.batch_write_item(RequestItems=pending)
                pending = got.get("UnprocessedItems") or {}

    def _update_if(self, item_key: dict[str, str], update: str, condition: str, values: dict[str, Any]) -> None:
        """An update that does nothing where its condition does not hold (or the item is not there)."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=dump(item_key),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=dump(values),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise


def _own_refs(items: list[dict[str, Any]], mid: str) -> set[tuple[str, str]]:
    """The references of the member's own writes (a member route's: its audit names the member as
    the actor), keyed in its own id space."""
    actor = f"member:{mid}"
    own = {
        (str(i["what"]), str(i["client_id"]))
        for i in items
        if str(i["sk"]).startswith("AUDIT#") and i.get("client_id") and i.get("actor") == actor
    }
    # The orders its coupons were used on at a till: their markers are keyed under its id too.
    return own | {
        (TILL_COUPONS, str(i["used_order_id"]))
        for i in items
        if str(i["sk"]).startswith("COUPON#") and i.get("used_order_id")
    }


def _own_ref(pk: str, pid: str, mid: str) -> tuple[str, str]:
    """(kind, id) of a member's own reference key (keys.ref_key)."""
    kind, _, ref_id = pk.removeprefix(f"REF#{pid}#").partition(f"#ME#{mid}#")
    return kind, ref_id


def _refs(items: list[dict[str, Any]], mid: str) -> set[tuple[str, str]]:
    """The references the member's items name: its audit items' (one per request's write), its ledger
    entries' (order:..., refund:...; written before the audit was) and its used coupons' uses (in
    both forms: the member's, and the coupon id alone of uses made before it)."""
    refs: set[tuple[str, str]] = set()
    for item in items:
        sk = str(item["sk"])
        if sk.startswith("LEDGER#") and item.get("ref"):
            kind, _, ref_id = str(item["ref"]).partition(":")
            if kind in REF_KINDS and ref_id:
                refs.add((kind, ref_id))
        elif sk.startswith("AUDIT#") and item.get("client_id"):  # every request's write names its reference
            refs.add((str(item["what"]), str(item["client_id"])))
        elif sk.startswith("COUPON#") and item.get("status") == "used":
            cid = str(item["coupon_id"])
            refs |= {("coupon_use", coupon_use_id(mid, cid)), ("coupon_use", cid)}
    return refs
