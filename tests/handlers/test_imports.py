"""Bulk import through the real handlers (moto): a batch of existing members, each exactly once, bad
lines refused by number without stopping the rest, imported members scheduled for their due work."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty.store.codec import load
from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.handlers.test_cost import calls, measure  # noqa: F401 - calls is a fixture

IMPORT = "/programs/demo/imports/crm-1"
SOON = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
LATER = (datetime.now(UTC) + timedelta(days=200)).date().isoformat()
PAST = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()


def member(member_id: str, **kw: Any) -> dict[str, Any]:
    return {"member_id": member_id, "enrolled_at": "2021-03-14T09:30:00Z", **kw}


def send(api: Api, n: int, members: list[Any], path: str = IMPORT) -> tuple[int, Any]:
    return api.call("imports", "POST", f"{path}/batches/{n}", {"members": members})


def rich() -> dict[str, Any]:
    return member(
        "c1",
        birthday="1988-07-02",
        channel="store",
        tier_id="gold",
        tier_since="2024-01-01T00:00:00Z",
        points=[{"points": 1200, "expires_on": LATER}, {"points": 300, "expires_on": SOON}, {"points": 50}],
        lifetime_earned=8400,
        lifetime_spend_minor=1250000,
        orders_total=57,
        last_purchase_at="2026-11-20T18:04:00Z",
        tags=["vip"],
    )


def test_a_member_comes_in_with_tier_buckets_totals_and_tags(api: Api, demo: str) -> None:
    status, result = send(api, 1, [rich()])
    assert status == 201, result
    assert (result["lines"], result["imported"], result["skipped"], result["refused"]) == (1, 1, 0, 0)
    view = api.call("members", "GET", "/programs/demo/members/c1")[1]
    assert view["tier"]["id"] == "gold" and view["tier"]["since"].startswith("2024-01-01")
    assert view["points"]["balance"] == 1550 and view["points"]["lifetime_earned"] == 8400
    assert view["points"]["expiring"] == [{"points": 300, "expires_on": SOON}, {"points": 1200, "expires_on": LATER}]
    assert (view["birthday"], view["channel"], view["tags"]) == ("1988-07-02", "store", ["vip"])
    assert view["enrolled_at"].startswith("2021-03-14") and view["lifecycle_stage"] == "active"
    ledger = api.call("members", "GET", "/programs/demo/members/c1/ledger")[1]["entries"]
    assert sorted(e["points"] for e in ledger) == [50, 300, 1200]
    assert all((e["type"], e["ref"], e["reason"]) == ("adjust", "import:crm-1", "import") for e in ledger)
    assert ledger[0]["balance_after"] == 1550
    # Scheduled like any member: the reminder of the points expiring in 10 days, their expiry, the reviews.
    due = {
        load(i)["sk"]
        for i in api.client.query(
            TableName="LoyaltyTable",
            KeyConditionExpression="pk = :pk AND begins_with(sk, :due)",
            ExpressionAttributeValues={":pk": {"S": "MEMBER#demo#c1"}, ":due": {"S": "DUE#"}},
        )["Items"]
    }
    assert {"DUE#expire", "DUE#remind", "DUE#tier_review"} <= due
    audit = api.call("members", "GET", "/programs/demo/members/c1/audit")[1]["entries"]
    assert [(e["what"], e["client_id"]) for e in audit] == [("import", "crm-1")]


def test_points_already_expired_are_recorded_and_expired_at_once(api: Api, demo: str) -> None:
    line = member("c2", points=[{"points": 70, "expires_on": PAST}, {"points": 30, "expires_on": LATER}])
    assert send(api, 1, [line])[1]["imported"] == 1
    view = api.call("members", "GET", "/programs/demo/members/c2")[1]
    assert view["points"]["balance"] == 30 and view["points"]["lifetime_earned"] == 100
    ledger = api.call("members", "GET", "/programs/demo/members/c2/ledger")[1]["entries"]
    assert [(e["type"], e["points"], e["balance_after"]) for e in ledger] == [
        ("expire", -70, 30),
        ("adjust", 30, 100),
        ("adjust", 70, 70),
    ]
    assert ledger[0]["reason"] == "expired before the import"


def test_bad_lines_are_refused_by_number_and_the_rest_imported(api: Api, demo: str) -> None:
    lines: list[Any] = [
        member("ok-1"),
        "not an object",
        member("t", tier_id="platinum"),
        member("p", points=[{"points": 10**9}, {"points": 1}]),
        member("f", enrolled_at="2999-01-01T00:00:00Z"),
        member("l", points=[{"points": 10}], lifetime_earned=5),
        member("x", colour="blue"),
        {"enrolled_at": "2021-01-01T00:00:00Z"},
        member("ok-2", points=[{"points": 5, "expires_on": "not a day"}]),
        member("ok-3"),
        member("ok-1"),
    ]
    status, result = send(api, 1, lines)
    assert status == 201, result
    assert (result["lines"], result["imported"], result["refused"]) == (11, 2, 9)
    named = {(p["line"], p["field"]) for p in result["problems"]}
    assert named == {
        (2, "line"),
        (3, "tier_id"),
        (4, "points"),
        (5, "enrolled_at"),
        (6, "lifetime_earned"),
        (7, "colour"),
        (8, "member_id"),
        (9, "points[0].expires_on"),
        (11, "member_id"),  # ok-1 again: it repeats line 1
    }
    assert all(p["batch"] == 1 and p["message"] for p in result["problems"])
    assert api.call("members", "GET", "/programs/demo/members/t")[0] == 404  # nothing partial
    assert api.call("members", "GET", "/programs/demo/members/ok-3")[0] == 200


def test_a_batch_is_exactly_once_and_its_number_is_its_content(api: Api, demo: str) -> None:
    first = send(api, 1, [rich(), member("c2")])
    assert first[0] == 201
    before = api.items()
    assert send(api, 1, [rich(), member("c2")]) == (200, first[1])
    assert api.items() == before
    assert_error(*send(api, 1, [member("c3")]), 409, "idempotency_conflict", "batch_id")
    # The same members in another batch of the same import: imported already (no skip, no second credit).
    again = send(api, 2, [rich()])[1]
    assert (again["imported"], again["skipped"]) == (1, 0)
    assert api.call("members", "GET", "/programs/demo/members/c1")[1]["points"]["balance"] == 1550


def test_a_member_enrolled_otherwise_is_skipped_and_left_as_it_is(api: Api, demo: str) -> None:
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "c1"})[0] == 201
    view = api.call("members", "GET", "/programs/demo/members/c1")[1]
    status, result = send(api, 1, [rich(), member("c2")])
    assert (status, result["imported"], result["skipped"]) == (201, 1, 1)
    assert result["problems"] == [
        {
            "batch": 1,
            "line": 1,
            "member_id": "c1",
            "field": "member_id",
            "message": "already a member (not by this import): left as it is",
        }
    ]
    assert api.call("members", "GET", "/programs/demo/members/c1")[1] == view


def test_the_report_adds_up_the_batches(api: Api, demo: str) -> None:
    assert_error(*api.call("imports", "GET", IMPORT), 404, "not_found", "import_id")
    send(api, 1, [rich(), "bad"])
    send(api, 2, [member("c2"), member("c3")])
    status, report = api.call("imports", "GET", IMPORT)
    assert status == 200, report
    assert {k: report[k] for k in ("batches", "lines_read", "imported", "skipped", "refused")} == {
        "batches": 2,
        "lines_read": 4,
        "imported": 3,
        "skipped": 0,
        "refused": 1,
    }
    assert [(p["batch"], p["line"]) for p in report["problems"]] == [(1, 2)] and report["truncated"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [({"members": []}, "members"), ({"members": [{}] * 501}, "members"), ({}, "members"), ({"members": 3}, "members")],
)
def test_a_batch_body_out_of_bounds_is_422(api: Api, demo: str, body: dict[str, Any], field: str) -> None:
    assert_error(*api.call("imports", "POST", f"{IMPORT}/batches/1", body), 422, "validation_error", field)


def test_a_bad_batch_number_or_unknown_program_is_refused(api: Api, demo: str) -> None:
    assert_error(*send(api, 0, [member("c1")]), 422, "validation_error", "n")
    assert_error(*send(api, 1, [member("c1")], "/programs/nope/imports/i1"), 404, "not_found")


def test_round_trips(api: Api, demo: str, calls: Counter[str]) -> None:  # noqa: F811 - the fixture
    api.call("members", "GET", "/programs/demo/members/nobody")  # warms the program cache
    got = measure(calls, api, "imports", "POST", f"{IMPORT}/batches/1", {"members": [rich(), member("c2")]})
    assert got == {"PutItem": 1, "TransactWriteItems": 2, "UpdateItem": 1}
    assert measure(calls, api, "imports", "POST", f"{IMPORT}/batches/1", {"members": [rich(), member("c2")]}) == {
        "PutItem": 1
    }


def test_a_plain_balance_takes_the_programs_expiry_and_tier_is_read_as_tier_id(api: Api, demo: str) -> None:
    plain = {"member_id": "c9", "enrolled_at": "2022-01-01T00:00:00Z", "points": 250, "tier": "gold"}
    status, result = send(api, 1, [plain])
    assert (status, result["imported"]) == (201, 1), result
    view = api.call("members", "GET", "/programs/demo/members/c9")[1]
    assert view["points"]["balance"] == 250 and view["tier"]["id"] == "gold"
    [bucket] = view["points"]["expiring"]
    assert bucket["points"] == 250 and bucket["expires_on"] > LATER[:4]  # rolling 12 months from today
