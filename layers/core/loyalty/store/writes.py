"""A member write: what it carries, and the one transaction it becomes, built item kind by item kind.

Every builder returns (label, item) pairs: the label names the guard in `Stale.failed` when its
condition fails ("profile", "ledger", "coupon", "stock", "budget:{key}", "ref", ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from .. import clock
from ..member import AuditEntry, Checkout, Coupon, LedgerEntry, Notice, Profile, TierChange
from ..program import TRANSACTION_ITEMS, Program
from .codec import CHECKOUT_TEXT, as_text, dump, load, packed_json, unpacked_ref
from .guests import guest_converted
from .keys import (
    PROFILE_SK,
    TILL_COUPONS,
    audience_keys,
    audit_sk,
    budget_key,
    checkout_sk,
    coupon_sk,
    coupon_use_id,
    due_keys,
    due_sk,
    erased_key,
    former_key,
    key,
    member_pk,
    notice_sk,
    ref_key,
    stock_key,
    tier_sk,
)
from .reads import Reads
from .table import NEW, RefExists, Stale, TooLarge

Labelled = tuple[str, dict[str, Any]]


class FinishedChange(Protocol):
    """What the store reads of a finished change (rules/posting.Change, after rules/due.finish): data
    only. The store runs no rule; it writes what the change holds."""

    @property
    def program(self) -> Program: ...
    @property
    def profile(self) -> Profile: ...  # its version is the one this write commits
    @property
    def entries(self) -> Sequence[LedgerEntry]: ...
    @property
    def coupons(self) -> Sequence[Coupon]: ...
    @property
    def notices(self) -> Sequence[Notice]: ...
    @property
    def tier_changes(self) -> Sequence[TierChange]: ...
    @property
    def budget_takes(self) -> dict[str, tuple[int, int]]: ...  # budget key -> (its limit, what it takes)


@dataclass
class Ref:
    kind: str  # purchase, refund, activity, redemption, payment...
    ref_id: str
    member_id: str
    request_hash: str
    response: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)  # facts later writes need (an order's points)
    actor: str | None = None  # who made it (usecases/pipeline.commit: the request's principal)
    by_member: bool = False  # a member route's write: keyed in the member's own id space (keys.ref_key)

    @property
    def owner(self) -> str | None:
        return self.member_id if self.by_member else None


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
class StockReturn:
    """Give `quantity` back to the stock shard a redemption took it from (a redemption cancelled)."""

    reward_id: str
    shard: int
    quantity: int


@dataclass
class CouponUse:
    member_id: str
    coupon_id: str
    order_id: str
    at: str
    discount_minor: int = 0
    at_till: bool = False  # used at a till (not by a checkout): the order's till marker names it


@dataclass
class CouponRevoke:
    """Unused coupons taken back (a card refund, a refund that undoes an upgrade): they end at `at`,
    if still unused when committed."""

    coupon_ids: list[str]
    at: str


@dataclass
class CouponRestore:
    """Coupons an order used, available again (its full refund), if still used by that order."""

    coupon_ids: list[str]
    order_id: str


@dataclass
class MemberWrite:
    change: FinishedChange | None  # None: the write leaves the profile as it is (a coupon used at a till)
    expected_version: int | None  # None: the member must not exist yet
    ref: Ref | None = None
    ref_updates: list[RefUpdate] = field(default_factory=list)
    stock: StockTake | None = None
    stock_return: StockReturn | None = None
    coupon_uses: list[CouponUse] = field(default_factory=list)
    checkout: Checkout | None = None  # a checkout as priced now (its holds move with the profile)
    # Only these of the checkout's fields changed (a confirm, a cancel): an Update of them, not the item again
    checkout_changed: tuple[str, ...] | None = None
    coupons_free: list[str] = field(default_factory=list)  # coupons that must still be usable (a hold)
    profile_check: int | None = None  # no profile change, but it must still be this version (a hold read)
    revoke: CouponRevoke | None = None
    restore: CouponRestore | None = None
    budget_returns: dict[str, int] = field(default_factory=dict)  # budget key -> what a refund gives back
    due_moves: dict[str, str | None] = field(default_factory=dict)  # rules/due.finish: the DUE items to move
    audience_moves: dict[str, bool] = field(default_factory=dict)  # rules/audience.moves: IN items to put/delete
    what: str | None = None  # the audit's name of a write without a reference (enrolment, tags)
    client_id: str | None = None  # and the client's id it names, if any (an import's id)
    audit: AuditEntry | None = None  # usecases/pipeline.commit: a request's write, in the member's partition
    # An enrolment that welcomes a new member: the program's member key, to check the id was never erased
    member_key: str | None = None
    # An enrolment naming a guest customer that ordered before: (customer_ref, enrolled_at) (store/guests.py)
    guest_conversion: tuple[str, datetime] | None = None


# ---- one builder per item kind ----------------------------------------------------------------------


def profile_put(table: str, pk: str, profile: Profile, expected_version: int | None) -> Labelled:
    """The profile, if it is still the version read (or, for an enrolment, not there yet)."""
    put: dict[str, Any] = {
        "TableName": table,
        "Item": dump({"pk": pk, "sk": PROFILE_SK, "type": "member", **profile.model_dump(mode="json")}),
    }
    if expected_version is None:
        put["ConditionExpression"] = NEW
    else:
        put["ConditionExpression"] = "version = :v"
        put["ExpressionAttributeValues"] = dump({":v": expected_version})
    return "profile", {"Put": put}


def not_erasing(table: str, pid: str, mid: str) -> Labelled:
    """A new profile only once an erasure of the same member id has moved its items (store/erasure.py)."""
    check = {
        "TableName": table,
        "Key": dump(erased_key(pid, mid)),
        "ConditionExpression": "attribute_not_exists(pk) OR pending = :false",
        "ExpressionAttributeValues": dump({":false": False}),
    }
    return "erasure", {"ConditionCheck": check}


def not_former(table: str, pid: str, mid: str, member_key: str) -> Labelled:
    """The member id was never erased (keys.former_key): else the enrolment is a returning member's."""
    check = {"TableName": table, "Key": dump(former_key(pid, mid, member_key)), "ConditionExpression": NEW}
    return "former", {"ConditionCheck": check}


def _new(table: str, pk: str, sk: str, kind: str, model: Any) -> Labelled:
    """An immutable item of the member's partition, written once."""
    item = dump({"pk": pk, "sk": sk, "type": kind, **model.model_dump(mode="json")})
    return kind, {"Put": {"TableName": table, "Item": item, "ConditionExpression": NEW}}


def entry_puts(table: str, pk: str, entries: Sequence[LedgerEntry]) -> list[Labelled]:
    return [_new(table, pk, f"LEDGER#{e.entry_id}", "ledger", e) for e in entries]


def created_puts(table: str, pk: str, change: FinishedChange) -> list[Labelled]:
    """The change's new ledger entries, coupons, notices and tier history, in that order."""
    version = change.profile.version
    return (
        entry_puts(table, pk, change.entries)
        + [_new(table, pk, coupon_sk(c.coupon_id), "coupon", c) for c in change.coupons]
        + [_new(table, pk, notice_sk(n.at, n.notice_id), "notice", n) for n in change.notices]
        + [_new(table, pk, tier_sk(t.at, version, i), "tier_change", t) for i, t in enumerate(change.tier_changes)]
    )


def due_items(table: str, pid: str, change: FinishedChange, moves: dict[str, str | None]) -> list[Labelled]:
    """The sparse, key-only index: only a member due for something has a DUE item in it."""
    mid = change.profile.member_id
    out: list[Labelled] = []
    for kind, day in moves.items():
        item_key = {"pk": member_pk(pid, mid), "sk": due_sk(kind)}
        if day is None:
            out.append(("due", {"Delete": {"TableName": table, "Key": dump(item_key)}}))
            continue
        starts = clock.day_start(date.fromisoformat(day[:10]), change.program.zone)
        item = {**item_key, **due_keys(kind, starts, pid, mid), "type": "due", "day": day}
        out.append(("due", {"Put": {"TableName": table, "Item": dump(item)}}))
    return out


def audience_items(table: str, pid: str, mid: str, moves: dict[str, bool]) -> list[Labelled]:
    """The audience index (keys.audience_keys): an entry put when the member joins, deleted when it leaves."""
    out: list[Labelled] = []
    for entry, joins in moves.items():
        keys = audience_keys(pid, mid, entry)
        if joins:
            out.append(("audience", {"Put": {"TableName": table, "Item": dump({**keys, "type": "audience"})}}))
        else:
            out.append(("audience", {"Delete": {"TableName": table, "Key": key(keys["pk"], keys["sk"])}}))
    return out


def _take(table: str, item_key: dict[str, str], amount: str, count: int, limit: int) -> dict[str, Any]:
    """Add `count` to a counter that may not pass `limit`: refused when fewer than `count` are left."""
    return {
        "Update": {
            "TableName": table,
            "Key": dump(item_key),
            "UpdateExpression": f"SET taken = if_not_exists(taken, :zero) + {amount}",
            "ConditionExpression": "attribute_not_exists(taken) OR taken <= :room",
            "ExpressionAttributeValues": dump({":zero": 0, amount: count, ":room": limit - count}),
        }
    }


def budget_takes(table: str, pid: str, takes: dict[str, tuple[int, int]]) -> list[Labelled]:
    """Refused when a budget has fewer than `count` left: the caller retries without that grant."""
    return [
        (f"budget:{site}", _take(table, budget_key(pid, site), ":n", n, limit)) for site, (limit, n) in takes.items()
    ]


def budget_returns(table: str, pid: str, returns: dict[str, int]) -> list[Labelled]:
    """What a full refund gives back to budgets its order took (a checkout campaign's discount_minor):
    refused, rather than below 0, when the budget holds less taken than that (its label names it)."""
    return [
        (
            f"budget_return:{site}",
            {
                "Update": {
                    "TableName": table,
                    "Key": dump(budget_key(pid, site)),
                    "UpdateExpression": "SET taken = taken - :n",
                    "ConditionExpression": "taken >= :n",
                    "ExpressionAttributeValues": dump({":n": n}),
                }
            },
        )
        for site, n in returns.items()
        if n > 0
    ]


def stock_take(table: str, pid: str, take: StockTake) -> Labelled:
    return "stock", _take(table, stock_key(pid, take.reward_id, take.shard), ":q", take.quantity, take.allotment)


def stock_return(table: str, pid: str, give: StockReturn) -> Labelled:
    """Refused when the shard holds fewer taken than given back (its stock was never taken, or the
    item is gone): the caller cancels without it rather than count stock that was not there."""
    update = {
        "TableName": table,
        "Key": dump(stock_key(pid, give.reward_id, give.shard)),
        "UpdateExpression": "SET taken = taken - :q",
        "ConditionExpression": "taken >= :q",
        "ExpressionAttributeValues": dump({":q": give.quantity}),
    }
    return "stock_return", {"Update": update}


def ref_put(table: str, pid: str, ref: Ref) -> Labelled:
    """The idempotency reference: refused, with what the first request stored, when it exists."""
    item = {
        **ref_key(pid, ref.kind, ref.ref_id, ref.owner),
        "type": "ref",
        "member_id": ref.member_id,
        "request_hash": ref.request_hash,
        "response": packed_json(ref.response),
        **ref.data,
        **({"actor": ref.actor} if ref.actor else {}),
    }
    put = {
        "TableName": table,
        "Item": dump(item),
        "ConditionExpression": NEW,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    return "ref", {"Put": put}


def ref_update(table: str, pid: str, upd: RefUpdate) -> Labelled:
    """An expected value of None: the field is not there yet (a reference written before it existed)."""
    names = {f"#s{i}": k for i, k in enumerate(upd.set)} | {f"#e{i}": k for i, k in enumerate(upd.expect)}
    values = {f":s{i}": v for i, v in enumerate(upd.set.values())}
    values |= {f":e{i}": v for i, v in enumerate(upd.expect.values()) if v is not None}
    conditions = [
        f"attribute_not_exists(#e{i})" if v is None else f"#e{i} = :e{i}" for i, v in enumerate(upd.expect.values())
    ]
    update = {
        "TableName": table,
        "Key": dump(ref_key(pid, upd.kind, upd.ref_id)),
        "UpdateExpression": "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(upd.set))),
        "ConditionExpression": " AND ".join(conditions),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": dump(values),
    }
    return "ref_update", {"Update": update}


# Unused and not revoked: a revocation ends the coupon (valid_until) but leaves it "available", so a
# till that read it before a refund revoked it must not use it after. (`:null`: a coupon never revoked
# holds revoked_at as null.)
USABLE = "#st = :available AND (attribute_not_exists(revoked_at) OR attribute_type(revoked_at, :null))"


def _unused_coupon(
    table: str, pk: str, coupon_id: str, sets: str, values: dict[str, Any], condition: str = "#st = :available"
) -> Labelled:
    """Change a coupon if it is still available."""
    update = {
        "TableName": table,
        "Key": key(pk, coupon_sk(coupon_id)),
        "UpdateExpression": sets,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#st": "status"},
        "ExpressionAttributeValues": dump(values),
    }
    return "coupon", {"Update": update}


def coupon_use(table: str, pid: str, use: CouponUse) -> Labelled:
    sets = "SET #st = :used, used_at = :at, used_order_id = :order, discount_minor = :off"
    values = {
        ":used": "used",
        ":available": "available",
        ":at": use.at,
        ":order": use.order_id,
        ":off": use.discount_minor,
        ":null": "NULL",
    }
    return _unused_coupon(table, member_pk(pid, use.member_id), use.coupon_id, sets, values, USABLE)


def till_marker(table: str, pid: str, use: CouponUse) -> Labelled:
    """The coupons used at a till on an order, by the order (keys.TILL_COUPONS): its full refund reads
    them with the order's reference (a till's use names the order only on the coupon)."""
    update = {
        "TableName": table,
        "Key": dump(ref_key(pid, TILL_COUPONS, use.order_id, use.member_id)),
        "UpdateExpression": "SET coupon_ids = list_append(if_not_exists(coupon_ids, :none), :c)",
        "ExpressionAttributeValues": dump({":c": [use.coupon_id], ":none": []}),
    }
    return "till", {"Update": update}


def coupons_usable(table: str, pid: str, write: MemberWrite) -> list[Labelled]:
    """A checkout holds only coupons still unused and unrevoked when it commits."""
    if not write.coupons_free:
        return []
    pk = member_pk(pid, audit_member(write))
    values = dump({":available": "available", ":null": "NULL"})
    return [
        (
            "coupon",
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": key(pk, coupon_sk(cid)),
                    "ConditionExpression": USABLE,
                    "ExpressionAttributeNames": {"#st": "status"},
                    "ExpressionAttributeValues": values,
                }
            },
        )
        for cid in write.coupons_free
    ]


def checkout_put(table: str, pid: str, checkout: Checkout, changed: tuple[str, ...] | None) -> Labelled:
    """The checkout as priced now (or only its `changed` fields); the profile's version guards it
    (every checkout write moves it)."""
    key_ = {"pk": member_pk(pid, checkout.member_id), "sk": checkout_sk(checkout.checkout_id)}
    wanted = set(changed) if changed else set(Checkout.model_fields)
    # The trees go to the encoder as they are (not dumped first): the PUT's largest Python cost here.
    fields = checkout.model_dump(mode="json", include=wanted - set(CHECKOUT_TEXT))
    fields |= as_text({k: getattr(checkout, k) for k in CHECKOUT_TEXT if k in wanted}, CHECKOUT_TEXT)
    if changed is None:
        return "checkout", {"Put": {"TableName": table, "Item": dump({**key_, "type": "checkout", **fields})}}
    update = {
        "TableName": table,
        "Key": dump(key_),
        "UpdateExpression": "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
        "ExpressionAttributeNames": {f"#f{i}": name for i, name in enumerate(fields)},
        "ExpressionAttributeValues": dump({f":f{i}": value for i, value in enumerate(fields.values())}),
    }
    return "checkout", {"Update": update}


def profile_check(table: str, pid: str, mid: str, version: int) -> Labelled:
    """A write that reads the holds but changes no profile (a coupon used at a till): the profile is
    still the version read, so no checkout took the coupon meanwhile."""
    check = {
        "TableName": table,
        "Key": key(member_pk(pid, mid), PROFILE_SK),
        "ConditionExpression": "version = :v",
        "ExpressionAttributeValues": dump({":v": version}),
    }
    return "profile", {"ConditionCheck": check}


def coupon_revokes(table: str, pk: str, revoke: CouponRevoke) -> list[Labelled]:
    sets = "SET valid_until = :at, revoked_at = :at"
    values = {":at": revoke.at, ":available": "available"}
    return [_unused_coupon(table, pk, coupon_id, sets, values) for coupon_id in revoke.coupon_ids]


def coupon_restores(table: str, pid: str, mid: str, restore: CouponRestore) -> list[Labelled]:
    """Each coupon available again, and the reference of its use at a till (if it had one) gone, so
    it can be used at a till again (a new use would otherwise meet the old use's reference)."""
    sets = "SET #st = :available REMOVE used_at, used_order_id, discount_minor"
    values = {":available": "available", ":used": "used", ":order": restore.order_id}
    condition = "#st = :used AND used_order_id = :order"
    out = [_unused_coupon(table, member_pk(pid, mid), cid, sets, values, condition) for cid in restore.coupon_ids]
    uses = [dump(ref_key(pid, "coupon_use", coupon_use_id(mid, cid))) for cid in restore.coupon_ids]
    return out + [("coupon_use", {"Delete": {"TableName": table, "Key": k}}) for k in uses]


def audit_put(table: str, pid: str, mid: str, entry: AuditEntry) -> Labelled:
    return _new(table, member_pk(pid, mid), audit_sk(entry.at, entry.version), "audit", entry)


def transaction(table: str, write: MemberWrite, pid: str) -> list[Labelled]:
    """The write's items in the order DynamoDB reports their cancellation reasons."""
    change = write.change
    items: list[Labelled] = []
    if change is not None:
        pk = member_pk(pid, change.profile.member_id)
        items.append(profile_put(table, pk, change.profile, write.expected_version))
        if write.expected_version is None:
            items.append(not_erasing(table, pid, change.profile.member_id))
        if write.member_key is not None:
            items.append(not_former(table, pid, change.profile.member_id, write.member_key))
        items += created_puts(table, pk, change)
        items += due_items(table, pid, change, write.due_moves)
        items += audience_items(table, pid, change.profile.member_id, write.audience_moves)
        items += budget_takes(table, pid, change.budget_takes)
    items += budget_returns(table, pid, write.budget_returns)
    if write.ref is not None:
        items.append(ref_put(table, pid, write.ref))
    items += [ref_update(table, pid, upd) for upd in write.ref_updates]
    if write.stock is not None:
        items.append(stock_take(table, pid, write.stock))
    if write.stock_return is not None:
        items.append(stock_return(table, pid, write.stock_return))
    items += [coupon_use(table, pid, use) for use in write.coupon_uses]
    items += [till_marker(table, pid, use) for use in write.coupon_uses if use.at_till]
    items += coupons_usable(table, pid, write)
    if write.checkout is not None:
        items.append(checkout_put(table, pid, write.checkout, write.checkout_changed))
    if write.profile_check is not None:
        items.append(profile_check(table, pid, audit_member(write), write.profile_check))
    if write.revoke is not None and change is not None:
        items += coupon_revokes(table, member_pk(pid, change.profile.member_id), write.revoke)
    if write.restore is not None and change is not None:
        items += coupon_restores(table, pid, change.profile.member_id, write.restore)
    if write.guest_conversion is not None:
        items.append(guest_converted(table, pid, *write.guest_conversion))
    if write.audit is not None:
        items.append(audit_put(table, pid, audit_member(write), write.audit))
    return items


def audit_member(write: MemberWrite) -> str:
    if write.change is not None:
        return write.change.profile.member_id
    if write.ref is not None:
        return write.ref.member_id
    raise ValueError("an audited write names its member")


class Writes(Reads):
    """The member write (a reference found there already is read back to say what it holds)."""

    def commit(self, write: MemberWrite, pid: str) -> None:
        """Profile, ledger entries, coupons, references and guards in one transaction, or nothing."""
        labelled = transaction(self.table, write, pid)
        if len(labelled) > TRANSACTION_ITEMS:
            # DynamoDB would refuse it with a ValidationException (a 500): the callers bound what a
            # write issues (program.problems, rules/spending.check_quantity); this says so if one is missed.
            raise TooLarge("transaction items", len(labelled), TRANSACTION_ITEMS)
        labels = [label for label, _ in labelled]
        reasons = self._transact([item for _, item in labelled])
        if reasons is None:
            return
        failed = {label for label, r in zip(labels, reasons, strict=False) if r.get("Code") == "ConditionalCheckFailed"}
        if "ref" in failed and write.ref is not None:
            old = reasons[labels.index("ref")].get("Item")
            existing = (
                unpacked_ref(load(old)) if old else self.get_ref(pid, write.ref.kind, write.ref.ref_id, write.ref.owner)
            )
            if existing is not None:
                raise RefExists(existing)
        raise Stale(failed)
