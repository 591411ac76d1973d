"""Erasure through the real handlers (moto): DELETE .../members/{member_id} removes the person and keeps
the figures, exactly once; a later enrolment of the same id is a new member."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from loyalty.runtime import store
from loyalty.store import Store
from tests.handlers.conftest import Api
from tests.handlers.test_cost import calls, measure  # noqa: F401 - calls is a fixture

M = "/programs/demo/members/m1"


def everything(api: Api) -> list[dict[str, Any]]:
    """Every item of the table (test-only inspection), as plain values."""
    from loyalty.store.codec import load

    return [load(i) for i in api.client.scan(TableName="LoyaltyTable")["Items"]]


def a_life(api: Api) -> None:
    enrol = {"member_id": "m1", "birthday": "1990-04-01", "channel": "wechat", "customer_ref": "crm-4711"}
    assert api.call("enrol", "POST", "/programs/demo/members", enrol)[0] == 201
    assert api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 25000})[0] == 201
    assert api.call("earn", "POST", f"{M}/activities", {"activity_id": "a1", "type": "check_in"})[0] == 201
    assert api.call("enrol", "PUT", f"{M}/tags", {"add": ["tea-lover"]})[0] == 200


def pseudonymised(api: Api) -> tuple[str, list[dict[str, Any]]]:
    """The pseudonym and its items: exactly one erased profile in the table."""
    profiles = [i for i in everything(api) if i["sk"] == "PROFILE" and "erased_at" in i]
    assert len(profiles) == 1
    pk = profiles[0]["pk"]
    return profiles[0]["member_id"], [i for i in everything(api) if i["pk"] == pk]


def test_erasure_removes_the_person_and_keeps_the_figures(api: Api, demo: str) -> None:
    a_life(api)
    view = api.call("members", "GET", M)[1]
    balance, coupons = view["points"]["balance"], api.call("members", "GET", f"{M}/coupons")[1]["coupons"]
    unused = [c for c in coupons if c["status"] == "available"]
    assert balance > 0 and unused

    status, body = api.call("enrol", "DELETE", M)
    assert status == 200
    assert body == {
        "program_id": "demo",
        "member_id": "m1",
        "erased_at": body["erased_at"],
        "points_removed": balance,
        "coupons_revoked": len(unused),
    }
    assert api.call("enrol", "DELETE", M) == (200, body)  # exactly once: a repeat answers the same
    for path in (M, f"{M}/ledger", f"{M}/coupons"):
        assert api.call("members", "GET", path)[0] == 404

    pseudonym, items = pseudonymised(api)
    assert pseudonym != "m1" and "m1" not in pseudonym
    # Nothing in the table names the member id but the erasure's marker (which no longer names the pseudonym).
    naming = [i for i in everything(api) if "m1" in json.dumps(i)]
    assert [i["pk"] for i in naming] == ["ERASED#demo#m1"] and "pseudonym" not in naming[0]
    assert not any(any(s in json.dumps(i) for s in ("1990-04-01", "wechat", "tea-lover", "crm-4711")) for i in items)
    # The ledger is kept under the pseudonym and still sums to the balance, now zero: the last entry
    # takes the balance out of the liability.
    ledger = sorted((i for i in items if i["sk"].startswith("LEDGER#")), key=lambda i: i["sk"])
    assert sum(int(e["points"]) for e in ledger) == 0
    assert (ledger[-1]["type"], ledger[-1]["points"], ledger[-1]["balance_after"]) == ("adjust", -balance, 0)
    assert all(
        i["sk"].startswith(("PROFILE", "LEDGER#", "COUPON#", "TIER#", "AUDIT#")) for i in items
    )  # no notices, no DUE
    assert {c["coupon_id"] for c in items if c["sk"].startswith("COUPON#") and c.get("revoked_at")} == {
        c["coupon_id"] for c in unused
    }
    # The order's reference names the pseudonym, so a refund of it can never reach a later member m1.
    order = next(i for i in everything(api) if i["pk"] == "REF#demo#order#o1")
    assert order["member_id"] == pseudonym
    # Pseudonymised items are nobody's: the member routes do not find the pseudonym either.
    assert api.call("members", "GET", f"/programs/demo/members/{pseudonym}")[0] == 404


def test_a_later_enrolment_of_the_same_id_is_a_new_member(api: Api, demo: str) -> None:
    a_life(api)
    assert api.call("enrol", "DELETE", M)[0] == 200
    status, view = api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    assert status == 201 and view["birthday"] is None and view["tags"] == []
    assert view["points"]["balance"] == 0  # a returning member: no second welcome pack (FORMER marker)
    assert api.call("members", "GET", f"{M}/ledger")[1]["entries"] == []
    assert api.call("earn", "POST", f"{M}/activities", {"activity_id": "a2", "type": "share"})[0] == 201
    # The old order belongs to the pseudonym: refunding it through the new m1 reverses nothing of hers.
    status, _ = api.call("earn", "POST", f"{M}/refunds", {"refund_id": "r1", "order_id": "o1", "amount_minor": 100})
    assert status == 404
    assert api.call("members", "GET", M)[1]["points"]["balance"] == 10
    # Erasing the new member works too, and replaces the first erasure's marker.
    status, body = api.call("enrol", "DELETE", M)
    assert status == 200 and body["points_removed"] == 10
    assert len([i for i in everything(api) if i["sk"] == "PROFILE" and "erased_at" in i]) == 2


def test_an_interrupted_erasure_is_finished_by_the_next_request(
    api: Api, demo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_life(api)
    real = Store.move

    def crash(*args: Any) -> None:
        raise RuntimeError("the function timed out mid-move")

    monkeypatch.setattr(Store, "move", crash)
    assert api.call("enrol", "DELETE", M)[0] == 500  # committed, not moved yet
    monkeypatch.setattr(Store, "move", real)
    assert store().erasure("demo", "m1")["pending"] is True
    # An enrolment of the same id finishes the move first, so the new member starts empty.
    status, view = api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    assert status == 201 and view["points"]["balance"] == 0  # new, but returning: no second welcome
    assert api.call("members", "GET", f"{M}/ledger")[1]["entries"] == []
    _, items = pseudonymised(api)
    assert sum(int(i["points"]) for i in items if i["sk"].startswith("LEDGER#")) == 0
    assert store().erasure("demo", "m1")["pending"] is False


def test_unknown_members_and_programs_get_404(api: Api, demo: str) -> None:
    status, body = api.call("enrol", "DELETE", "/programs/demo/members/nobody")
    assert status == 404 and body["error"]["details"][0]["field"] == "member_id"
    assert api.call("enrol", "DELETE", "/programs/none/members/m1")[0] == 404
    assert api.call("enrol", "DELETE", "/programs/demo/members/not%20an%20id")[0] == 422


def test_round_trips_of_an_erasure(api: Api, demo: str, calls: Counter[str]) -> None:  # noqa: F811 - the fixture
    a_life(api)
    # Profile, wallet, one transaction; then the move: the partition, its copies and deletions in
    # batches, one update per reference (the order, the activity) and the marker's; its referral
    # code items looked for (none: it never read its code).
    assert measure(calls, api, "enrol", "DELETE", M) == {
        "GetItem": 1,
        "BatchGetItem": 1,
        "Query": 2,
        "TransactWriteItems": 1,
        "BatchWriteItem": 2,
        "UpdateItem": 3,
    }
    assert measure(calls, api, "enrol", "DELETE", M) == {"GetItem": 2}  # a repeat: the marker answers
