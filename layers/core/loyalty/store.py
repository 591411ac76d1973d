"""Data access: the only module that knows the table's keys and item shapes.

Layout (one table, generic key names, type prefixes; `#` never occurs in an id):
  PROGRAMS                 PROGRAM#{pid}           registry: every program (operators list them)
  PROGRAM#{pid}            CONFIG                  current program document and version
  PROGRAM#{pid}            CONFIG#v{000001}        immutable history, one item per version
  MEMBER#{pid}#{mid}       PROFILE                 the member aggregate (buckets, tier, counters)
  MEMBER#{pid}#{mid}       LEDGER#{seq:012d}       one immutable item per change of points
  MEMBER#{pid}#{mid}       COUPON#{coupon_id}      one item per coupon
  MEMBER#{pid}#{mid}       NOTICE#{id}             notices (domain events)
  MEMBER#{pid}#{mid}       TIER#{at}#{version}#{n} tier history (version: the write's, so no two collide)
  MEMBER#{pid}#{mid}       DUE#{kind}              when a scheduled kind is next due (in gsi1, below)
  REF#{pid}#{kind}#{id}    REF                     idempotency reference (order, refund, activity...)
  STOCK#{pid}#{reward}#{n} STOCK                   a reward's stock, in shards
  BUDGET#{pid}#{site}:{m}  BUDGET                  what a budgeted grant site has given in month m
  STATS#{pid}              D#{day}, M#{month}, T   health counters: per day, per month, running totals
  SEEN#{event id}          SEEN                    a stream record already counted (expires by TTL)

The sparse, key-only index gsi1 holds only DUE items: gsi1pk DUE#{kind}#{shard}, gsi1sk
{instant}#{pid}#{mid}, where the instant (UTC, to the minute) is when the program-local due day
begins. "Who is due for a kind at T, however late" is then one range Query per shard for the whole
table: a run reads only the members due, whatever the number of programs or of days overdue.

Everything about one member shares a partition, so a member read is one Query or GetItem and a member
write is one TransactWriteItems. References live in their own partitions so an order id is unique in
the whole program, not just per member, at no extra round trip (they join the same transaction).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError

from . import clock
from .errors import Unavailable
from .member import Coupon, LedgerEntry, Notice, Profile
from .program import TRANSACTION_ITEMS
from .records import StreamRecord

if TYPE_CHECKING:  # the store runs no rule: a write hands it a finished Change (usecases/writes.commit)
    from .rules.posting import Change

_ser = TypeSerializer()
_NUMBER_LIMIT = 10**38  # DynamoDB's numbers carry 38 digits; the library refuses longer ones
_de = TypeDeserializer()

# Retries, chosen: botocore's adaptive mode retries throttling and transient errors with backoff and
# slows the client down under throttling; 5 attempts keep a request well inside API Gateway's 30 s.
# Optimistic-lock races and transaction conflicts are not botocore's to retry: writes.once re-reads.
_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 5}, connect_timeout=2, read_timeout=5)
THROTTLED = {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"}


def _throttled(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
    """Throttling that outlasted the retries is a 503 the client may retry, not an internal error."""
    code = parsed.get("Error", {}).get("Code")
    if code in THROTTLED:
        raise Unavailable("the table is busy; retry shortly", [{"reason": code, "operation": model.name}])


class Stale(Exception):
    """The write did not commit: a condition failed or DynamoDB reported a transaction conflict.
    `failed` names the guards whose condition failed ("profile", "stock", "coupon", ...)."""

    def __init__(self, failed: set[str] | None = None) -> None:
        super().__init__(f"write not committed: {sorted(failed or [])}")
        self.failed = failed or set()


# DynamoDB refuses an item over 400 KB (409,600 bytes: attribute names and values). A program version
# is one item holding the whole document as compact JSON (the current CONFIG item and its CONFIG#v
# history item each hold it), next to keys and a few attributes that take well under 1 KB.
MAX_PROGRAM_BYTES = 400_000


class TooLarge(Exception):
    """The write cannot be stored as it is: `size` is over `limit` (bytes of an item, or items of a
    transaction). Raised before calling DynamoDB, which would answer with a ValidationException."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(f"{what}: {size} over the limit of {limit}")
        self.what, self.size, self.limit = what, size, limit


class RefExists(Exception):
    """The idempotency reference is already there; `item` is what the first request stored."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("reference exists")
        self.item = item


@dataclass
class Ref:
    kind: str  # purchase, refund, activity, redemption, payment...
    ref_id: str
    member_id: str
    request_hash: str
    response: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)  # facts later writes need (an order's points)


@dataclass
class RefUpdate:
    """Set fields on an existing reference, guarded by the values they had when read."""

    kind: str
    ref_id: str
    set: dict[str, Any]
    expect: dict[str, Any]


@dataclass
class StockTake:
    """Take `quantity` from one shard of a reward's stock; the shard holds `allotment` in all."""

    reward_id: str
    shard: int
    quantity: int
    allotment: int


@dataclass
class CouponUse:
    member_id: str
    coupon_id: str
    order_id: str
    at: str
    discount_minor: int = 0


@dataclass
class CouponRevoke:
    """Unused coupons taken back (a card refund, a refund that undoes an upgrade): they end at `at`,
    if still unused when committed."""

    coupon_ids: list[str]
    at: str


@dataclass
class MemberWrite:
    change: Change | None  # None: the write leaves the profile as it is (a coupon used at a till)
    expected_version: int | None  # None: the member must not exist yet
    ref: Ref | None = None
    ref_updates: list[RefUpdate] = field(default_factory=list)
    stock: StockTake | None = None
    coupon_use: CouponUse | None = None
    revoke: CouponRevoke | None = None
    due_moves: dict[str, str | None] = field(default_factory=dict)  # Change.finish's: the DUE items to move


def _member_pk(pid: str, mid: str) -> str:
    return f"MEMBER#{pid}#{mid}"


def _ref_key(pid: str, kind: str, ref_id: str) -> dict[str, str]:
    return {"pk": f"REF#{pid}#{kind}#{ref_id}", "sk": "REF"}


def _stock_key(pid: str, reward_id: str, shard: int) -> dict[str, str]:
    """Stock is split over shards so that a popular reward is not one hot item (README)."""
    return {"pk": f"STOCK#{pid}#{reward_id}#{shard}", "sk": "STOCK"}


DUE_SHARDS = 16  # the index partitions of one kind, for the whole table: a run's fixed cost


def due_shard(mid: str) -> int:
    return int(hashlib.sha256(mid.encode()).hexdigest()[:8], 16) % DUE_SHARDS


def _due_pk(kind: str, shard: int) -> str:
    return f"DUE#{kind}#{shard}"


def _instant(at: datetime) -> str:
    """Fixed width, so the index's string order is time order."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def due_keys(kind: str, due_at: datetime, pid: str, mid: str) -> dict[str, str]:
    """A DUE item's index keys. `due_at` marks the layout: items written before it had per-day keys."""
    return {
        "gsi1pk": _due_pk(kind, due_shard(mid)),
        "gsi1sk": f"{_instant(due_at)}#{pid}#{mid}",
        "due_at": _instant(due_at),
    }


@dataclass
class Due:
    """A member found due: the program, the member and the instant its due day began."""

    program_id: str
    member_id: str
    due_at: str


def _program_pk(pid: str) -> str:
    return f"PROGRAM#{pid}"


_PERIOD_SK = {"day": "D#", "month": "M#", "total": "T"}  # running totals: one item, ("total", "") -> T


def _stats_sk(period: tuple[str, str]) -> str:
    """A health counter's sort key: ("day", "2026-11-23") -> D#2026-11-23. An unknown kind raises."""
    kind, value = period
    return f"{_PERIOD_SK[kind]}{value}"


def _dump(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _attribute(v) for k, v in item.items()}


def _attribute(value: Any) -> dict[str, Any]:  # noqa: PLR0911 - one return per type
    """One value as TypeSerializer writes it, in a single pass for the types we store: TypeSerializer
    tries every type in turn for each value, and was a quarter of a warm purchase's Python."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):  # before int: a bool is an int
        return {"BOOL": value}
    if isinstance(value, int) and -_NUMBER_LIMIT < value < _NUMBER_LIMIT:
        return {"N": str(value)}
    if isinstance(value, dict):
        return {"M": {k: _attribute(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"L": [_attribute(v) for v in value]}
    if value is None:
        return {"NULL": True}
    return _ser.serialize(value)  # sets, Decimal, bytes, a number too long: the library's encoding


def _load(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in item.items()}


def _value(attribute: dict[str, Any]) -> Any:
    """One attribute as TypeDeserializer + `_plain` give it, in a single pass for the types we store:
    this runs on every item of every read, and the two-pass form was a tenth of a warm read's Python."""
    for tag, raw in attribute.items():  # exactly one
        if tag in ("S", "BOOL"):
            return raw
        if tag == "N":
            return int(raw) if raw.isdigit() else _plain(_de.deserialize(attribute))  # negative, or not whole
        if tag == "M":
            return {k: _value(v) for k, v in raw.items()}
        if tag == "L":
            return [_value(v) for v in raw]
        if tag == "NULL":
            return None
    return _plain(_de.deserialize(attribute))  # sets, binary, a decimal: the library's decoding


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; everything we store as a number is an integer."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "to_integral_value"):
        return int(value)
    return value


def decode_change(record: dict[str, Any]) -> StreamRecord | None:
    """A DynamoDB stream record (as Lambda and Pipes deliver it) -> what changed: a member's item, or
    an order's reference (kind "order"); None for anything else (programs, budgets, stock, stats)."""
    images = record.get("dynamodb", {})
    new = _load(images["NewImage"]) if images.get("NewImage") else None
    old = _load(images["OldImage"]) if images.get("OldImage") else None
    item = new or old or {}
    pk = str(item.get("pk", ""))
    parts = pk.split("#")
    if parts[0] == "REF" and len(parts) == 4 and parts[2] == "order":
        kind, pid, mid = "order", parts[1], item.get("member_id")
    elif pk.startswith("MEMBER#"):
        _, pid, mid = pk.split("#", 2)
        sk = str(item.get("sk", ""))
        kind = next((k for prefix, k in _KINDS_BY_SK.items() if sk.startswith(prefix)), "other")
    else:
        return None
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


# What a member partition's items are, by sort key (a ledger item's `type` is the entry's type).
_KINDS_BY_SK = {
    "PROFILE": "member",
    "LEDGER#": "ledger",
    "COUPON#": "coupon",
    "NOTICE#": "notice",
    "TIER#": "tier_change",
    "DUE#": "due",
}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}  # keys are strings: no serializer needed


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(_load(key), separators=(",", ":")).encode()).decode()


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
    return _dump(key)


class Store:
    def __init__(self, table_name: str | None = None, client: Any = None) -> None:
        self.table = table_name or os.environ["TABLE_NAME"]
        self.client = client or boto3.client("dynamodb", config=_CONFIG)
        self.client.meta.events.register("after-call.dynamodb", _throttled)

    # ---- programs -------------------------------------------------------------------------------

    def get_program(self, pid: str) -> tuple[dict[str, Any], int] | None:
        got = self.client.get_item(TableName=self.table, Key=_key(_program_pk(pid), "CONFIG"), ConsistentRead=True)
        if "Item" not in got:
            return None
        item = _load(got["Item"])
        return json.loads(item["doc"]), item["version"]

    def put_program(self, pid: str, doc: dict[str, Any], version: int, at: str) -> None:
        """Write version `version` (history + current) if the current one is still `version - 1`.
        TooLarge when the document is over MAX_PROGRAM_BYTES (nothing written)."""
        text = json.dumps(doc, separators=(",", ":"))
        size = len(text.encode())
        if size > MAX_PROGRAM_BYTES:
            raise TooLarge("program document bytes", size, MAX_PROGRAM_BYTES)
        body = {"program_id": pid, "version": version, "doc": text, "saved_at": at}
        current: dict[str, Any] = {
            "Put": {
                "TableName": self.table,
                "Item": _dump({"pk": _program_pk(pid), "sk": "CONFIG", **body}),
                "ConditionExpression": "attribute_not_exists(pk)" if version == 1 else "version = :prev",
            }
        }
        if version > 1:
            current["Put"]["ExpressionAttributeValues"] = _dump({":prev": version - 1})
        registry = {
            "Put": {
                "TableName": self.table,
                "Item": _dump({"pk": "PROGRAMS", "sk": f"PROGRAM#{pid}", "type": "program"}),
            }
        }
        history = {
            "Put": {
                "TableName": self.table,
                "Item": _dump({"pk": _program_pk(pid), "sk": f"CONFIG#v{version:06d}", **body}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        if self._transact([current, history, registry] if version == 1 else [current, history]) is not None:
            raise Stale({"program"})

    # ---- members: reads -------------------------------------------------------------------------

    def get_member(self, pid: str, mid: str) -> Profile | None:
        got = self.client.get_item(TableName=self.table, Key=_key(_member_pk(pid, mid), "PROFILE"), ConsistentRead=True)
        return Profile.model_validate(_load(got["Item"])) if "Item" in got else None

    def get_member_and_ref(
        self, pid: str, mid: str, kind: str, ref_id: str
    ) -> tuple[Profile | None, dict[str, Any] | None]:
        """Profile and one reference in a single round trip (BatchGetItem, strongly consistent)."""
        profile, ref, _ = self.get_member_ref_and_coupons(pid, mid, kind, ref_id, [])
        return profile, ref

    def get_member_ref_and_coupons(
        self, pid: str, mid: str, kind: str, ref_id: str, coupon_ids: list[str]
    ) -> tuple[Profile | None, dict[str, Any] | None, list[Coupon]]:
        """Profile, one reference and those of the coupons that exist, in a single round trip
        (BatchGetItem, strongly consistent) while they fit in one call's 100 keys."""
        pk = _member_pk(pid, mid)
        ref_key = _ref_key(pid, kind, ref_id)
        keys = [_key(pk, "PROFILE"), _dump(ref_key)]
        keys += [_key(pk, f"COUPON#{cid}") for cid in sorted(set(coupon_ids))]
        items: list[dict[str, Any]] = []
        for at in range(0, len(keys), 100):
            request: dict[str, Any] = {self.table: {"Keys": keys[at : at + 100], "ConsistentRead": True}}
            while request:
                got = self.client.batch_get_item(RequestItems=request)
                items += [_load(i) for i in got["Responses"].get(self.table, [])]
                request = got.get("UnprocessedKeys") or {}
        profile = next((i for i in items if i["sk"] == "PROFILE"), None)
        ref = next((i for i in items if i["pk"] == ref_key["pk"]), None)
        coupons = [Coupon.model_validate(i) for i in items if str(i["sk"]).startswith("COUPON#")]
        return (Profile.model_validate(profile) if profile else None), ref, coupons

    def due_members(
        self, kind: str, shard: int, at: datetime, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Due], dict[str, Any] | None]:
        """One page of the members of every program due for `kind` at `at` or earlier, in one shard
        of the sparse index, earliest first. A cursor of another partition (an old work item) is
        ignored: the shard is read from its start, which only re-reads members still due."""
        pk = _due_pk(kind, shard)
        args: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk < :after",
            # "$" sorts right after "#": every key of an instant up to `at` is below it.
            "ExpressionAttributeValues": _dump({":pk": pk, ":after": f"{_instant(at)}$"}),
            "Limit": limit,
        }
        if start and start.get("gsi1pk", {}).get("S") == pk:
            args["ExclusiveStartKey"] = start
        got = self.client.query(**args)
        found = []
        for item in got["Items"]:
            due_at, pid, mid = item["gsi1sk"]["S"].split("#")
            found.append(Due(program_id=pid, member_id=mid, due_at=due_at))
        return found, got.get("LastEvaluatedKey")

    def old_due_items(
        self, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of DUE items still in the per-day layout (no `due_at`). The one Scan in the code:
        a one-off migration (usecases/migrate.py), never a request or a sweep."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "begins_with(sk, :due) AND attribute_not_exists(due_at)",
            "ProjectionExpression": "pk, sk, #day",
            "ExpressionAttributeNames": {"#day": "day"},
            "ExpressionAttributeValues": _dump({":due": "DUE#"}),
            "Limit": limit,
        }
        if start:
            args["ExclusiveStartKey"] = start
        got = self.client.scan(**args)
        items = []
        for raw in got["Items"]:
            item = _load(raw)
            _, pid, mid = item["pk"].split("#", 2)
            items.append({"program_id": pid, "member_id": mid, "kind": item["sk"].removeprefix("DUE#"), **item})
        return items, got.get("LastEvaluatedKey")

    def rekey_due(self, item: dict[str, Any], due_at: datetime) -> bool:
        """Give an old-layout DUE item its new index keys, unless a member write moved it meanwhile
        (that write put a new-layout item). True when rekeyed."""
        keys = due_keys(item["kind"], due_at, item["program_id"], item["member_id"])
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(item["pk"], item["sk"]),
                UpdateExpression="SET gsi1pk = :pk, gsi1sk = :sk, due_at = :at",
                ConditionExpression="attribute_not_exists(due_at) AND #day = :day",
                ExpressionAttributeNames={"#day": "day"},
                ExpressionAttributeValues=_dump(
                    {":pk": keys["gsi1pk"], ":sk": keys["gsi1sk"], ":at": keys["due_at"], ":day": item["day"]}
                ),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get_ref(self, pid: str, kind: str, ref_id: str) -> dict[str, Any] | None:
        got = self.client.get_item(TableName=self.table, Key=_dump(_ref_key(pid, kind, ref_id)), ConsistentRead=True)
        return _load(got["Item"]) if "Item" in got else None

    def get_coupon(self, pid: str, mid: str, coupon_id: str) -> Coupon | None:
        key = _key(_member_pk(pid, mid), f"COUPON#{coupon_id}")
        got = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
        return Coupon.model_validate(_load(got["Item"])) if "Item" in got else None

    def get_coupons(self, pid: str, mid: str, coupon_ids: list[str]) -> list[Coupon]:
        """Some of a member's coupons by id, strongly consistent (BatchGetItem, 100 keys a call)."""
        pk = _member_pk(pid, mid)
        items: list[dict[str, Any]] = []
        ids = sorted(set(coupon_ids))
        for at in range(0, len(ids), 100):
            keys = [_key(pk, f"COUPON#{cid}") for cid in ids[at : at + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys, "ConsistentRead": True}}
            while request:
                got = self.client.batch_get_item(RequestItems=request)
                items += [_load(i) for i in got["Responses"].get(self.table, [])]
                request = got.get("UnprocessedKeys") or {}
        return [Coupon.model_validate(i) for i in items]

    def ledger(
        self, pid: str, mid: str, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[LedgerEntry], dict[str, Any] | None]:
        items, last = self._query(_member_pk(pid, mid), "LEDGER#", limit, cursor, newest_first=True)
        return [LedgerEntry.model_validate(i) for i in items], last

    def coupons(self, pid: str, mid: str) -> list[Coupon]:
        return [Coupon.model_validate(i) for i in self._query_all(_member_pk(pid, mid), "COUPON#")]

    def notices(self, pid: str, mid: str) -> list[Notice]:
        return [Notice.model_validate(i) for i in self._query_all(_member_pk(pid, mid), "NOTICE#")]

    def ledger_cursor(self, pid: str, mid: str, cursor: str) -> dict[str, Any] | None:
        return decode_cursor(cursor, _member_pk(pid, mid), "LEDGER#")

    encode_cursor = staticmethod(encode_cursor)

    def _query_all(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        return self._every("pk = :pk AND begins_with(sk, :prefix)", {":pk": pk, ":prefix": prefix})

    def _every(self, key_condition: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item a key condition matches, oldest key first. A plain loop rather than botocore's
        Query paginator: on a coupon wallet the paginator's own Python was 9% of the request's."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": _dump(values),
        }
        items: list[dict[str, Any]] = []
        while True:
            got = self.client.query(**args)
            items += [_load(i) for i in got["Items"]]
            if "LastEvaluatedKey" not in got:
                return items
            args["ExclusiveStartKey"] = got["LastEvaluatedKey"]

    def _query(
        self, pk: str, prefix: str, limit: int, start: dict[str, Any] | None, newest_first: bool
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": _dump({":pk": pk, ":prefix": prefix}),
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        if start:
            args["ExclusiveStartKey"] = start
        got = self.client.query(**args)
        return [_load(i) for i in got["Items"]], got.get("LastEvaluatedKey")

    # ---- health counters ------------------------------------------------------------------------

    def add_stats(
        self, counters: dict[tuple[str, tuple[str, str]], dict[str, int]], seen: list[str], expires_at: int
    ) -> set[str]:
        """Add counters and mark the stream records they come from as counted, in one transaction, so
        a record delivered again is never counted twice. Returns the records found counted already
        (then nothing was written: the caller drops them and adds the rest)."""
        items: list[dict[str, Any]] = []
        for event_id in seen:
            marker = {"pk": f"SEEN#{event_id}", "sk": "SEEN", "type": "seen", "expires_at": expires_at}
            items.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": _dump(marker),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        for (pid, period), given in counters.items():
            values = {k: v for k, v in given.items() if v}
            if not values:
                continue
            names = {f"#c{i}": name for i, name in enumerate(values)}
            amounts = {f":c{i}": value for i, value in enumerate(values.values())}
            items.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _key(f"STATS#{pid}", _stats_sk(period)),
                        "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(values))),
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": _dump(amounts),
                    }
                }
            )
        reasons = self._transact(items)
        if reasons is None:
            return set()
        counted = {seen[i] for i, r in enumerate(reasons[: len(seen)]) if r.get("Code") == "ConditionalCheckFailed"}
        if not counted:
            raise Stale(set())  # a conflict with another batch: the caller retries
        return counted

    def stats(self, pid: str, first: tuple[str, str], last: tuple[str, str]) -> list[dict[str, Any]]:
        """A program's counter items from period `first` to `last` of the same kind, in order."""
        return self._every(
            "pk = :pk AND sk BETWEEN :a AND :b", {":pk": f"STATS#{pid}", ":a": _stats_sk(first), ":b": _stats_sk(last)}
        )

    # ---- members: the one write -----------------------------------------------------------------

    def commit(self, write: MemberWrite, pid: str) -> None:
        """Profile, ledger entries, coupons, references and guards in one transaction, or nothing."""
        items: list[dict[str, Any]] = []
        labels: list[str] = []

        def add(label: str, item: dict[str, Any]) -> None:
            labels.append(label)
            items.append(item)

        if write.change is not None:
            moves = write.due_moves
            profile = write.change.profile
            pk = _member_pk(pid, profile.member_id)
            put: dict[str, Any] = {
                "TableName": self.table,
                "Item": _dump({"pk": pk, "sk": "PROFILE", "type": "member", **profile.model_dump(mode="json")}),
            }
            if write.expected_version is None:
                put["ConditionExpression"] = "attribute_not_exists(pk)"
            else:
                put["ConditionExpression"] = "version = :v"
                put["ExpressionAttributeValues"] = _dump({":v": write.expected_version})
            add("profile", {"Put": put})
            created = [(f"LEDGER#{e.entry_id}", "ledger", e) for e in write.change.entries]
            created += [(f"COUPON#{c.coupon_id}", "coupon", c) for c in write.change.coupons]
            created += [(f"NOTICE#{n.notice_id}", "notice", n) for n in write.change.notices]
            changes = enumerate(write.change.tier_changes)
            # The member's new version in the key: two writes may carry the same instant (a purchase and
            # its refund in one second, a review at a client's `at` and a scheduled run at that hour).
            version = write.change.profile.version
            created += [(f"TIER#{t.at.isoformat()}#{version:09d}#{i}", "tier_change", t) for i, t in changes]
            for sk, kind, model in created:
                item = _dump({"pk": pk, "sk": sk, "type": kind, **model.model_dump(mode="json")})
                cond = "attribute_not_exists(pk)"
                add(kind, {"Put": {"TableName": self.table, "Item": item, "ConditionExpression": cond}})
            for kind, day in moves.items():
                # The sparse, key-only index: only a member due for something has a DUE item in it.
                key = {"pk": pk, "sk": f"DUE#{kind}"}
                if day is None:
                    add("due", {"Delete": {"TableName": self.table, "Key": _dump(key)}})
                    continue
                starts = clock.day_start(date.fromisoformat(day[:10]), write.change.program.zone)
                gsi = due_keys(kind, starts, pid, profile.member_id)
                add("due", {"Put": {"TableName": self.table, "Item": _dump({**key, **gsi, "type": "due", "day": day})}})

        takes = write.change.budget_takes if write.change is not None else {}
        for key, (limit, count) in takes.items():
            # Refused when fewer than `count` are left: the caller retries without that grant.
            add(
                f"budget:{key}",
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _dump({"pk": f"BUDGET#{pid}#{key}", "sk": "BUDGET"}),
                        "UpdateExpression": "SET taken = if_not_exists(taken, :zero) + :n",
                        "ConditionExpression": "attribute_not_exists(taken) OR taken <= :room",
                        "ExpressionAttributeValues": _dump({":zero": 0, ":n": count, ":room": limit - count}),
                    }
                },
            )
        if write.ref is not None:
            ref = write.ref
            item = {
                **_ref_key(pid, ref.kind, ref.ref_id),
                "type": "ref",
                "member_id": ref.member_id,
                "request_hash": ref.request_hash,
                "response": json.dumps(ref.response, separators=(",", ":")),
                **ref.data,
            }
            add(
                "ref",
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": _dump(item),
                        "ConditionExpression": "attribute_not_exists(pk)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            )
        for upd in write.ref_updates:
            names = {f"#s{i}": k for i, k in enumerate(upd.set)} | {f"#e{i}": k for i, k in enumerate(upd.expect)}
            values = {f":s{i}": v for i, v in enumerate(upd.set.values())}
            values |= {f":e{i}": v for i, v in enumerate(upd.expect.values())}
            add(
                "ref_update",
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _dump(_ref_key(pid, upd.kind, upd.ref_id)),
                        "UpdateExpression": "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(upd.set))),
                        "ConditionExpression": " AND ".join(f"#e{i} = :e{i}" for i in range(len(upd.expect))),
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": _dump(values),
                    }
                },
            )
        if write.stock is not None:
            take = write.stock
            add(
                "stock",
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _dump(_stock_key(pid, take.reward_id, take.shard)),
                        "UpdateExpression": "SET taken = if_not_exists(taken, :zero) + :q",
                        "ConditionExpression": "attribute_not_exists(taken) OR taken <= :room",
                        "ExpressionAttributeValues": _dump(
                            {":zero": 0, ":q": take.quantity, ":room": take.allotment - take.quantity}
                        ),
                    }
                },
            )
        if write.coupon_use is not None:
            use = write.coupon_use
            add(
                "coupon",
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _key(_member_pk(pid, use.member_id), f"COUPON#{use.coupon_id}"),
                        "UpdateExpression": (
                            "SET #st = :used, used_at = :at, used_order_id = :order, discount_minor = :off"
                        ),
                        "ConditionExpression": "#st = :available",
                        "ExpressionAttributeNames": {"#st": "status"},
                        "ExpressionAttributeValues": _dump(
                            {
                                ":used": "used",
                                ":available": "available",
                                ":at": use.at,
                                ":order": use.order_id,
                                ":off": use.discount_minor,
                            }
                        ),
                    }
                },
            )
        if write.revoke is not None and write.change is not None:
            pk = _member_pk(pid, write.change.profile.member_id)
            for coupon_id in write.revoke.coupon_ids:
                add(
                    "coupon",
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": _key(pk, f"COUPON#{coupon_id}"),
                            "UpdateExpression": "SET valid_until = :at, revoked_at = :at",
                            "ConditionExpression": "#st = :available",
                            "ExpressionAttributeNames": {"#st": "status"},
                            "ExpressionAttributeValues": _dump({":at": write.revoke.at, ":available": "available"}),
                        }
                    },
                )

        if len(items) > TRANSACTION_ITEMS:
            # DynamoDB would refuse it with a ValidationException (a 500): the callers bound what a
            # write issues (program.problems, rules/spending.check_quantity); this says so if one is missed.
            raise TooLarge("transaction items", len(items), TRANSACTION_ITEMS)
        reasons = self._transact(items)
        if reasons is None:
            return
        failed = {label for label, r in zip(labels, reasons, strict=False) if r.get("Code") == "ConditionalCheckFailed"}
        if "ref" in failed and write.ref is not None:
            index = labels.index("ref")
            old = reasons[index].get("Item")
            existing = _load(old) if old else self.get_ref(pid, write.ref.kind, write.ref.ref_id)
            if existing is not None:
                raise RefExists(existing)
        raise Stale(failed)

    def _transact(self, items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Run a transaction; None when it committed, the cancellation reasons when a condition or a
        concurrent transaction stopped it (callers decide whether that is a lost race or a duplicate)."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or [{}] * len(items)
                return reasons
            if code in ("TransactionConflictException", "ConditionalCheckFailedException"):
                return [{}] * len(items)
            raise
        return None
