"""A member's items as the use cases read them: the profile, references, coupons, ledger, notices."""

from __future__ import annotations

from typing import Any

from ..member import AuditEntry, Checkout, Coupon, LedgerEntry, Notice, Profile
from .codec import CHECKOUT_TEXT, decode_cursor, dump, encode_cursor, from_text, load, unpacked_ref
from .keys import (
    PROFILE_SK,
    TILL_COUPONS,
    budget_key,
    checkout_sk,
    coupon_sk,
    key,
    member_pk,
    ref_key,
    stock_key,
)
from .table import Table


def _profile(item: dict[str, Any]) -> Profile | None:
    """An erased member's pseudonymised profile is no member (store/erasure.py): nobody reads or writes it."""
    return None if "erased_at" in item else Profile.model_validate(item)


class Reads(Table):
    def get_member(self, pid: str, mid: str) -> Profile | None:
        got = self.client.get_item(TableName=self.table, Key=key(member_pk(pid, mid), PROFILE_SK), ConsistentRead=True)
        return _profile(load(got["Item"])) if "Item" in got else None

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
        (get_member_with). An order's reference comes with `till_coupons`: the coupons used on it at a
        till (keys.TILL_COUPONS)."""
        ref, till = ref_key(pid, kind, ref_id), ref_key(pid, TILL_COUPONS, ref_id, mid)
        sks = [coupon_sk(cid) for cid in sorted(set(coupon_ids))]
        profile, items, _ = self.get_member_with(pid, mid, sks, [], [ref] + ([till] if kind == "order" else []))
        found = unpacked_ref(items[ref["pk"]]) if ref["pk"] in items else None
        used = sorted(items[till["pk"]]["coupon_ids"]) if till["pk"] in items else []
        if found is not None and used:
            found["till_coupons"] = used
        coupons = [Coupon.model_validate(i) for sk, i in items.items() if sk.startswith("COUPON#")]
        return profile, found, coupons

    def get_member_and_budgets(self, pid: str, mid: str, budgets: list[str]) -> tuple[Profile | None, dict[str, int]]:
        """The profile and what each of these budgets has given (budget key -> taken; 0 when never
        taken), in one round trip: a GetItem without budgets, else one BatchGetItem (strongly
        consistent) while they fit in its 100 keys."""
        if not budgets:
            return self.get_member(pid, mid), {}
        profile, _, taken = self.get_member_with(pid, mid, [], budgets)
        return profile, taken

    def get_member_with(
        self, pid: str, mid: str, sks: list[str], budgets: list[str], refs: list[dict[str, str]] | None = None
    ) -> tuple[Profile | None, dict[str, dict[str, Any]], dict[str, int]]:
        """The profile, those of the member's items `sks` that exist (by sort key) and of the references
        `refs` (keys.ref_key; by partition key), and what each budget has given (0 when never taken),
        in one strongly consistent BatchGetItem (100 keys a call): every read of a member with other
        items goes through here."""
        pk = member_pk(pid, mid)
        by_pk = {budget_key(pid, b)["pk"]: b for b in budgets}
        ref_pks = {r["pk"] for r in refs or []}
        keys = [key(pk, PROFILE_SK)] + [key(pk, sk) for sk in dict.fromkeys(sks)] + [dump(r) for r in refs or []]
        items = self._batch_get(keys + [dump(budget_key(pid, b)) for b in budgets])
        profile = next((i for i in items if i["pk"] == pk and i["sk"] == PROFILE_SK), None)
        found = {str(i["sk"]): i for i in items if i["pk"] == pk and i["sk"] != PROFILE_SK}
        found |= {str(i["pk"]): i for i in items if i["pk"] in ref_pks}
        taken = {by_pk[i["pk"]]: int(i.get("taken", 0)) for i in items if i["pk"] in by_pk}
        return (_profile(profile) if profile else None), found, taken

    def get_member_checkout(
        self, pid: str, mid: str, checkout_id: str, coupon_ids: list[str], budgets: list[str]
    ) -> tuple[Profile | None, Checkout | None, list[Coupon], dict[str, int]]:
        """The profile, one checkout, those of the coupons that exist and the budgets, in one round trip."""
        sks = [checkout_sk(checkout_id)] + [coupon_sk(c) for c in coupon_ids]
        profile, items, taken = self.get_member_with(pid, mid, sks, budgets)
        found = items.get(checkout_sk(checkout_id))
        coupons = [Coupon.model_validate(i) for sk, i in items.items() if sk.startswith("COUPON#")]
        chk = Checkout.model_validate(from_text(found, CHECKOUT_TEXT)) if found else None
        return profile, chk, coupons, taken

    def get_member_coupon(self, pid: str, mid: str, coupon_id: str) -> tuple[Profile | None, Coupon | None]:
        """The profile and one coupon in one round trip: a till's use reads the holds with the coupon."""
        sk = coupon_sk(coupon_id)
        profile, items, _ = self.get_member_with(pid, mid, [sk], [])
        return profile, Coupon.model_validate(items[sk]) if sk in items else None

    def get_ref(self, pid: str, kind: str, ref_id: str, member: str | None = None) -> dict[str, Any] | None:
        """A reference of the program's id space, or of `member`'s own (keys.ref_key)."""
        item_key = ref_key(pid, kind, ref_id, member)
        got = self.client.get_item(TableName=self.table, Key=dump(item_key), ConsistentRead=True)
        return unpacked_ref(load(got["Item"])) if "Item" in got else None

    def get_coupons(self, pid: str, mid: str, coupon_ids: list[str]) -> list[Coupon]:
        """Some of a member's coupons by id, strongly consistent (BatchGetItem, 100 keys a call)."""
        pk = member_pk(pid, mid)
        items = self._batch_get([key(pk, coupon_sk(cid)) for cid in sorted(set(coupon_ids))])
        return [Coupon.model_validate(i) for i in items]

    def ledger(
        self, pid: str, mid: str, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[LedgerEntry], dict[str, Any] | None]:
        items, last = self._query(member_pk(pid, mid), "LEDGER#", limit, cursor, newest_first=True)
        return [LedgerEntry.model_validate(i) for i in items], last

    def coupons(self, pid: str, mid: str) -> list[Coupon]:
        return [Coupon.model_validate(i) for i in self._query_all(member_pk(pid, mid), "COUPON#")]

    def notices(self, pid: str, mid: str) -> list[Notice]:
        return [Notice.model_validate(i) for i in self._query_all(member_pk(pid, mid), "NOTICE#")]

    def notices_page(
        self, pid: str, mid: str, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[Notice], dict[str, Any] | None]:
        """Newest first (keys.notice_sk), one Query a page."""
        items, last = self._query(member_pk(pid, mid), "NOTICE#", limit, cursor, newest_first=True)
        return [Notice.model_validate(i) for i in items], last

    def get_member_and_stock(
        self, pid: str, mid: str, shards: list[tuple[str, int]], budgets: list[str]
    ) -> tuple[Profile | None, dict[str, dict[int, int]], dict[str, int]]:
        """The profile, what each of these stock shards (reward id, shard) has given (reward -> shard ->
        taken) and what each budget has given, in one round trip: a GetItem when there are none, else
        one strongly consistent BatchGetItem (get_member_with)."""
        if not shards and not budgets:
            return self.get_member(pid, mid), {}, {}
        keys = {stock_key(pid, r, n)["pk"]: (r, n) for r, n in shards}
        refs = [stock_key(pid, r, n) for r, n in shards]
        profile, items, taken = self.get_member_with(pid, mid, [], budgets, refs)
        stock: dict[str, dict[int, int]] = {}
        for pk, (r, n) in keys.items():
            if pk in items:
                stock.setdefault(r, {})[n] = int(items[pk].get("taken", 0))
        return profile, stock, taken

    def audit(
        self, pid: str, mid: str, limit: int, cursor: dict[str, Any] | None
    ) -> tuple[list[AuditEntry], dict[str, Any] | None]:
        items, last = self._query(member_pk(pid, mid), "AUDIT#", limit, cursor, newest_first=True)
        return [AuditEntry.model_validate(i) for i in items], last

    def ledger_cursor(self, pid: str, mid: str, cursor: str, prefix: str = "LEDGER#") -> dict[str, Any] | None:
        """A page's cursor back to its key, if it is one of this member's pages of `prefix` items."""
        return decode_cursor(cursor, member_pk(pid, mid), prefix)

    encode_cursor = staticmethod(encode_cursor)
