"""The audience index (gsi1 IN items) through the real handlers (moto): entries move inside the
member's own write, only those that changed, and `Store.audience_page` pages them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from loyalty.runtime import store
from tests.handlers.conftest import Api
from tests.handlers.test_cost import calls, measure  # noqa: F401 - calls is a fixture
from tests.support import Context, load_function

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


# ---- the route: GET /programs/{program_id}/members?tier=|tag=|segment=|stage= ------------------------


def listing(api: Api, query: dict[str, str]) -> tuple[int, Any]:
    return api.call("members", "GET", P, query=query)


def test_the_members_list_pages_member_views_by_one_filter(api: Api, demo: str) -> None:
    for mid in ("c", "a", "b", "d"):
        enrol(api, mid)
    api.call("enrol", "PUT", f"{P}/b/tags", {"add": ["tea"]})
    api.call("enrol", "PUT", f"{P}/d/tags", {"add": ["tea"]})
    status, body = listing(api, {"tag": "tea"})
    assert status == 200 and [m["member_id"] for m in body["members"]] == ["b", "d"] and body["next_cursor"] is None
    assert body["members"][0] == api.call("members", "GET", f"{P}/b")[1]  # the member view, as GET shows it
    seen, query = [], {"stage": "new", "limit": "3"}
    while True:
        status, body = listing(api, query)
        assert status == 200, body
        seen += [m["member_id"] for m in body["members"]]
        if body["next_cursor"] is None:
            break
        query = {**query, "cursor": body["next_cursor"]}
    assert seen == ["a", "b", "c", "d"]
    assert listing(api, {"tier": "star"})[1]["next_cursor"] is None
    assert listing(api, {"segment": "champions"}) == (200, {"members": [], "next_cursor": None})
    assert listing(api, {"tier": "no-such-tier"}) == (200, {"members": [], "next_cursor": None})


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({}, ["tier", "tag", "segment", "stage"]),
        ({"limit": "5"}, ["tier", "tag", "segment", "stage"]),
        ({"tier": "star", "tag": "tea"}, ["tier", "tag"]),
        ({"stage": "sleeping"}, ["stage"]),
        ({"segment": "vip"}, ["segment"]),
        ({"tag": "not a tag"}, ["tag"]),
        ({"tag": "tea", "limit": "0"}, ["limit"]),
        ({"tag": "tea", "limit": "101"}, ["limit"]),
        ({"tag": "tea", "cursor": "bm90IGpzb24="}, ["cursor"]),
        ({"tag": "tea", "cursor": "not a cursor"}, ["cursor"]),
    ],
)
def test_bad_queries_are_a_422_naming_the_parameter(api: Api, demo: str, query: dict, fields: list[str]) -> None:
    enrol(api, "m1")
    status, body = listing(api, query)
    assert status == 422 and body["error"]["code"] == "validation_error", body
    assert [d["field"] for d in body["error"]["details"]] == fields


def test_an_unknown_program_is_a_404(api: Api) -> None:
    status, body = api.call("members", "GET", "/programs/nope/members", query={"tag": "tea"})
    assert status == 404 and body["error"]["code"] == "not_found"


def test_one_query_and_one_batch_read_a_page(api: Api, demo: str, calls: Counter[str]) -> None:  # noqa: F811
    for mid in ("a", "b", "c"):
        enrol(api, mid)
    listing(api, {"stage": "new"})  # warms the program cache
    assert measure(calls, api, "members", "GET", P, query={"stage": "new", "limit": "2"}) == {
        "Query": 1,
        "BatchGetItem": 1,
    }


def test_the_migration_indexes_members_enrolled_before_the_index(api: Api, demo: str) -> None:
    for mid in ("old1", "old2", "new1"):
        enrol(api, mid)
    api.call("enrol", "PUT", f"{P}/old2/tags", {"add": ["tea"]})
    client = store().client
    for mid in ("old1", "old2"):  # as written before this release: no `audiences`, no IN items
        pk = {"S": f"MEMBER#demo#{mid}"}
        client.update_item(
            TableName=store().table, Key={"pk": pk, "sk": {"S": "PROFILE"}}, UpdateExpression="REMOVE audiences"
        )
        for sk in ("IN#stage#new", "IN#tier#star", "IN#tag#tea"):
            client.delete_item(TableName=store().table, Key={"pk": pk, "sk": {"S": sk}})
    assert everyone("demo", "stage", "new") == ["new1"]
    migrate = load_function("migrate_due").handler
    result = migrate({"index": "audience"}, Context())
    assert result["done"] and result["indexed"] == 2, result
    assert everyone("demo", "stage", "new") == ["new1", "old1", "old2"] and everyone("demo", "tag", "tea") == ["old2"]
    assert store().get_member("demo", "old1").audiences == ["stage#new", "tier#star"]
    again = migrate({"index": "audience"}, Context())
    assert again["done"] and "indexed" not in again  # a repeat finds nothing left
