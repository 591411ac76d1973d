"""Adjustments and the audit trail through the real handlers (moto): a support agent's correction is
exactly once, never below zero, and every request's write says who made it."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.handlers.test_cost import calls, measure  # noqa: F401 - calls is a fixture

M = "/programs/demo/members/m1"
AGENT = "arn:aws:iam::123456789012:role/support-desk"


def adjust(api: Api, adjustment_id: str, points: int, **kw: object) -> tuple[int, dict]:
    body = {"adjustment_id": adjustment_id, "points": points, "reason": "goodwill: late delivery", **kw}
    return api.call("enrol", "POST", f"{M}/adjustments", body, iam=AGENT)


@pytest.fixture
def member(api: Api, demo: str) -> int:
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201
    assert api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 10000})[0] == 201
    return int(api.call("members", "GET", M)[1]["points"]["balance"])


def test_a_credit_and_a_debit_are_adjust_entries_with_reason_and_actor(api: Api, member: int) -> None:
    status, body = adjust(api, "adj-1", 150)
    assert status == 201, body
    assert body["balance"] == member + 150 and body["points"] == 150
    entry = body["entry"]
    assert (entry["type"], entry["points"], entry["reason"], entry["actor"]) == (
        "adjust",
        150,
        "goodwill: late delivery",
        AGENT,  # the request's principal
    )
    assert entry["ref"] == "adjustment:adj-1"
    status, body = adjust(api, "adj-2", -50)
    assert status == 201 and body["balance"] == member + 100
    ledger = api.call("members", "GET", f"{M}/ledger")[1]["entries"]
    assert [(e["type"], e["points"]) for e in ledger[:2]] == [("adjust", -50), ("adjust", 150)]
    assert ledger[0]["balance_after"] == member + 100 == sum(e["points"] for e in ledger)


def test_the_ledger_and_the_audit_name_one_actor_the_requests(api: Api, member: int) -> None:
    """Who made an adjustment is the request's principal (caller.current()), in both places: a body's
    `actor` is kept as the entry's `agent` (a claim), never in place of the principal."""
    status, body = adjust(api, "adj-1", 10, actor="agent li.wei")
    assert status == 201 and (body["entry"]["actor"], body["entry"]["agent"]) == (AGENT, "agent li.wei"), body
    local = {"adjustment_id": "adj-2", "points": 10, "reason": "goodwill"}
    status, body = api.call("enrol", "POST", f"{M}/adjustments", local, headers={"x-loyalty-actor": "desk:ana"})
    assert status == 201, body
    assert adjust(api, "adj-3", 10)[0] == 201
    ledger = api.call("members", "GET", f"{M}/ledger", query={"limit": "2"})[1]["entries"]
    audit = api.call("members", "GET", f"{M}/audit", query={"limit": "2"})[1]["entries"]
    assert [(e["ref"], e["actor"]) for e in ledger] == [("adjustment:adj-3", AGENT), ("adjustment:adj-2", "desk:ana")]
    assert [(f"adjustment:{e['client_id']}", e["actor"]) for e in audit] == [(e["ref"], e["actor"]) for e in ledger]


@pytest.mark.parametrize("actor", ["a\u0001", "desk\nana", "ops\x7f", "x\u0085y"])
def test_an_actor_header_with_a_control_character_is_422_naming_it(api: Api, member: int, actor: str) -> None:
    """The header is stored as the ledger's and the audit's actor: free text, refused like any."""
    items = api.items()
    local = {"adjustment_id": "adj-c", "points": 10, "reason": "goodwill"}
    status, body = api.call("enrol", "POST", f"{M}/adjustments", local, headers={"x-loyalty-actor": actor})
    assert_error(status, body, 422, "validation_error", "x-loyalty-actor")
    assert api.items() == items


def test_an_adjustment_is_exactly_once_and_its_id_is_its_payload(api: Api, member: int) -> None:
    first = adjust(api, "adj-1", 100)
    assert first[0] == 201
    again = adjust(api, "adj-1", 100)
    assert again == (200, first[1])
    assert_error(*adjust(api, "adj-1", 99), 409, "idempotency_conflict", "adjustment_id")
    assert api.call("members", "GET", M)[1]["points"]["balance"] == member + 100


def test_a_debit_past_the_balance_is_409_insufficient_points_and_writes_nothing(api: Api, member: int) -> None:
    before = api.items()
    status, body = adjust(api, "adj-1", -(member + 1))
    assert_error(status, body, 409, "insufficient_points", "points")
    assert body["error"]["details"] == [{"field": "points", "needed": member + 1, "available": member}], body
    assert api.items() == before
    assert adjust(api, "adj-2", -member)[1]["balance"] == 0  # down to zero is allowed


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"adjustment_id": "a", "points": 0, "reason": "x"}, "points"),
        ({"adjustment_id": "a", "points": 1.5, "reason": "x"}, "points"),
        ({"adjustment_id": "a", "points": 10**10, "reason": "x"}, "points"),
        ({"adjustment_id": "a", "points": 5, "reason": " "}, "reason"),
        ({"adjustment_id": "a", "points": 5}, "reason"),
        ({"adjustment_id": "a b", "points": 5, "reason": "x"}, "adjustment_id"),
        ({"adjustment_id": "a", "points": 5, "reason": "x", "actor": ""}, "actor"),
        ({"adjustment_id": "a", "points": 5, "reason": "x", "extra": 1}, "extra"),
    ],
)
def test_bad_adjustments_are_422_naming_the_field(api: Api, member: int, body: dict, field: str) -> None:
    status, reply = api.call("enrol", "POST", f"{M}/adjustments", body)
    assert_error(status, reply, 422, "validation_error", field)


def test_an_unknown_member_is_404(api: Api, demo: str) -> None:
    status, body = api.call(
        "enrol", "POST", "/programs/demo/members/nobody/adjustments", {"adjustment_id": "a", "points": 5, "reason": "x"}
    )
    assert_error(status, body, 404, "not_found", "member_id")


def test_the_audit_lists_every_requests_write_newest_first_paged(api: Api, member: int) -> None:
    assert adjust(api, "adj-1", 10)[0] == 201
    assert api.call("earn", "POST", f"{M}/activities", {"activity_id": "a1", "type": "check_in"}, sub="m1")[0] == 201
    assert api.call("enrol", "PUT", f"{M}/tags", {"add": ["vip"]}, headers={"x-loyalty-actor": "ops:ana"})[0] == 200
    status, page = api.call("members", "GET", f"{M}/audit", query={"limit": "3"})
    assert status == 200, page
    got = [(e["what"], e["client_id"], e["actor"]) for e in page["entries"]]
    assert got == [("tags", None, "ops:ana"), ("activity", "a1", "member:m1"), ("adjustment", "adj-1", AGENT)]
    status, rest = api.call("members", "GET", f"{M}/audit", query={"limit": "3", "cursor": page["next_cursor"]})
    assert [(e["what"], e["client_id"], e["actor"]) for e in rest["entries"]] == [
        ("order", "o1", "local"),
        ("enrolment", None, "local"),
    ]
    assert rest["next_cursor"] is None
    # The reference item names who made it too.
    ref = api.client.get_item(
        TableName="LoyaltyTable", Key={"pk": {"S": "REF#demo#adjustment#adj-1"}, "sk": {"S": "REF"}}
    )
    assert ref["Item"]["actor"]["S"] == AGENT


def test_a_repeat_writes_no_second_audit_entry(api: Api, member: int) -> None:
    assert adjust(api, "adj-1", 10)[0] == 201
    assert adjust(api, "adj-1", 10)[0] == 200
    entries = api.call("members", "GET", f"{M}/audit")[1]["entries"]
    assert [e["client_id"] for e in entries].count("adj-1") == 1


def test_the_audit_of_an_unknown_member_is_404_and_a_foreign_cursor_422(api: Api, member: int) -> None:
    assert_error(*api.call("members", "GET", "/programs/demo/members/nobody/audit"), 404, "not_found", "member_id")
    ledger = api.call("members", "GET", f"{M}/ledger", query={"limit": "1"})[1]
    status, body = api.call("members", "GET", f"{M}/audit", query={"cursor": ledger["next_cursor"]})
    assert_error(status, body, 422, "validation_error", "cursor")


def test_round_trips(api: Api, member: int, calls: Counter[str]) -> None:  # noqa: F811 - the fixture
    api.call("members", "GET", "/programs/demo/members/nobody")  # warms the program cache
    body = {"adjustment_id": "adj-1", "points": 10, "reason": "x"}
    assert measure(calls, api, "enrol", "POST", f"{M}/adjustments", body) == {"GetItem": 1, "TransactWriteItems": 1}
    assert measure(calls, api, "members", "GET", f"{M}/audit") == {"Query": 1}


def test_ledger_entries_carry_the_reason_where_it_is_known(api: Api, member: int) -> None:
    refund = {"refund_id": "r1", "order_id": "o1", "amount_minor": 5000}
    assert api.call("earn", "POST", f"{M}/refunds", refund)[0] == 201
    ledger = api.call("members", "GET", f"{M}/ledger")[1]["entries"]
    assert [(e["type"], e["reason"]) for e in reversed(ledger)] == [
        ("welcome", "welcome"),  # a grant's site
        ("earn", None),  # the order's own points: the ref says it all
        ("bonus", "first_order"),
        ("reverse", "refund of order o1"),
    ]
