"""The audience index (gsi1 IN items) through the real handlers (moto): entries move inside the
member's own write, only those that changed, and `Store.audience_page` pages them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from loyalty.runtime import store
from tests.handlers.conftest import Api

P = "/programs/demo/members"


@pytest.fixture
def transactions(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[dict[str, Any]]]]:
    """Every TransactWriteItems the store sends, as its item list."""
    client = store().client
    sent: list[list[dict[str, Any]]] = []
    real = client.transact_write_items

    def spy(**kw: Any) -> Any:
        sent.append(kw["TransactItems"])
        return real(**kw)

    monkeypatch.setattr(client, "transact_write_items", spy)
    yield sent


def audience_ops(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(Put|Delete, sk) of the transaction's audience items."""
    out = []
    for item in items:
        for op, body in item.items():
            sk = (body.get("Item") or body.get("Key") or {}).get("sk", {}).get("S", "")
            if sk.startswith("IN#"):
                out.append((op, sk))
    return out


def everyone(pid: str, attr: str, value: str, limit: int = 100) -> list[str]:
    ids, cursor = store().audience_page(pid, attr, value, limit, None)
    while cursor:
        more, cursor = store().audience_page(pid, attr, value, limit, cursor)
        ids += more
    return ids


def enrol(api: Api, mid: str) -> None:
    assert api.call("enrol", "POST", P, {"member_id": mid})[0] == 201


def test_entries_move_in_the_members_own_write_and_only_those_that_changed(
    api: Api, demo: str, transactions: list[list[dict[str, Any]]]
) -> None:
    enrol(api, "m1")
    assert sorted(audience_ops(transactions[-1])) == [("Put", "IN#stage#new"), ("Put", "IN#tier#star")]
    assert store().audience_page("demo", "tier", "star", 10, None) == (["m1"], None)
    status, _ = api.call("earn", "POST", f"{P}/m1/purchases", {"order_id": "o1", "amount_minor": 1000})
    assert status == 201
    assert sorted(audience_ops(transactions[-1])) == [("Delete", "IN#stage#new"), ("Put", "IN#stage#active")]
    # A purchase that moves none of tier, tags, segment or stage writes no index item.
    status, _ = api.call("earn", "POST", f"{P}/m1/purchases", {"order_id": "o2", "amount_minor": 1000})
    assert status == 201 and audience_ops(transactions[-1]) == []
    assert everyone("demo", "stage", "new") == [] and everyone("demo", "stage", "active") == ["m1"]
    # Tags: one item per tag added or removed, nothing for a tag kept.
    assert api.call("enrol", "PUT", f"{P}/m1/tags", {"add": ["tea", "vip"]})[0] == 200
    assert sorted(audience_ops(transactions[-1])) == [("Put", "IN#tag#tea"), ("Put", "IN#tag#vip")]
    assert api.call("enrol", "PUT", f"{P}/m1/tags", {"add": ["cake"], "remove": ["tea"]})[0] == 200
    assert sorted(audience_ops(transactions[-1])) == [("Delete", "IN#tag#tea"), ("Put", "IN#tag#cake")]
    assert everyone("demo", "tag", "tea") == [] and everyone("demo", "tag", "vip") == ["m1"]
    # A tier upgrade moves the member from one tier's audience to the other's.
    status, body = api.call("earn", "POST", f"{P}/m1/purchases", {"order_id": "o3", "amount_minor": 200000})
    assert status == 201 and body["tier_changed"], body
    assert everyone("demo", "tier", "star") == [] and everyone("demo", "tier", body["tier"]) == ["m1"]


def test_pages_in_member_id_order_without_duplicates_or_gaps(api: Api, demo: str) -> None:
    ids = [f"m{i:02d}" for i in range(23)]
    for mid in reversed(ids):
        enrol(api, mid)
    seen: list[str] = []
    page, cursor = store().audience_page("demo", "stage", "new", 5, None)
    seen += page
    assert cursor is not None
    api.call("earn", "POST", f"{P}/m03/purchases", {"order_id": "o1", "amount_minor": 1000})  # leaves, behind
    api.call("earn", "POST", f"{P}/m04/purchases", {"order_id": "o2", "amount_minor": 1000})  # its last: the cursor
    while cursor:
        page, cursor = store().audience_page("demo", "stage", "new", 5, cursor)
        assert len(page) <= 5
        seen += page
    assert seen == ids  # a member that left after its page was read is not lost, nor listed twice
    assert everyone("demo", "stage", "new", 7) == [m for m in ids if m not in ("m03", "m04")]
    assert store().audience_page("demo", "stage", "new", 20, None)[1] is not None
    assert store().audience_page("demo", "stage", "new", 21, None)[1] is None  # no cursor to an empty page
    assert store().audience_page("demo", "stage", "active", 2, None) == (["m03", "m04"], None)
    assert store().audience_page("other", "stage", "new", 5, None) == ([], None)


def test_a_cursor_of_another_list_is_a_422_naming_cursor(api: Api, demo: str) -> None:
    for mid in ("a", "b"):
        enrol(api, mid)
    _, cursor = store().audience_page("demo", "stage", "new", 1, None)
    assert cursor is not None
    for bad in (cursor, "bm90IGpzb24=", "!!"):
        with pytest.raises(Exception) as raised:
            store().audience_page("demo", "tier", "star", 1, bad)
        assert getattr(raised.value, "details", None) == [
            {"field": "cursor", "message": "not a cursor this list returned"}
        ]


def test_an_erased_member_leaves_every_audience_and_its_pseudonym_joins_none(api: Api, demo: str) -> None:
    enrol(api, "m1")
    enrol(api, "m2")
    api.call("enrol", "PUT", f"{P}/m1/tags", {"add": ["tea"]})
    status, body = api.call("enrol", "DELETE", f"{P}/m1")
    assert status in (200, 202), body
    for attr, value in (("tag", "tea"), ("stage", "new"), ("tier", "star")):
        assert "m1" not in everyone("demo", attr, value)
    assert everyone("demo", "stage", "new") == ["m2"]  # and no pseudonym in its place
