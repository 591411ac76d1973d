"""A member's profile (issue 28, items 5 and 6): enrolment campaigns only for members new to the program,
the enrolment's answer lists its coupons, and PATCH corrects the birthday and the channel."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from loyalty import clock
from loyalty.runtime import store
from loyalty.usecases import scheduler
from tests.handlers.conftest import Api
from tests.handlers.test_cost import calls, measure  # noqa: F401 - calls is a fixture
from tests.support import program

SERVER = "/programs/demo/members"
M = f"{SERVER}/m1"
ME = "/programs/demo/me"


def put(api: Api, **extra: Any) -> None:
    doc = program("demo")
    doc["coupons"]["gift-5"] = {"name": "5 off", "kind": "amount_off", "value_minor": 500, "valid_days": 7}
    doc.update(extra)
    status, body = api.call("programs", "PUT", "/programs/demo", doc)
    assert status == 200, body


WELCOME_CAMPAIGN = {
    "id": "hello",
    "name": "hello",
    "trigger": "enrolment",
    "effects": [{"points": 50}, {"coupons": ["gift-5"]}],
}


def balance(api: Api, member_id: str) -> int:
    return int(api.call("members", "GET", f"{SERVER}/{member_id}")[1]["points"]["balance"])


def audit(api: Api, path: str = M) -> list[str]:
    return [e["what"] for e in api.call("members", "GET", f"{path}/audit")[1]["entries"]]


# ---- enrolment campaigns: only for members new to the program ---------------------------------------


def test_enrolment_campaigns_run_only_for_members_new_to_the_program(api: Api) -> None:
    put(api, campaigns=[WELCOME_CAMPAIGN])
    assert api.call("enrol", "POST", SERVER, {"member_id": "new"})[0] == 201
    assert balance(api, "new") == 100 + 50  # the welcome and the campaign
    migrated = {"member_id": "old", "enrolled_at": "2020-01-02T03:04:05Z"}
    assert api.call("enrol", "POST", SERVER, migrated)[0] == 201
    assert balance(api, "old") == 0
    assert api.call("members", "GET", f"{SERVER}/old/coupons")[1]["coupons"] == []
    line = {"member_id": "imported", "enrolled_at": "2021-03-14T09:30:00Z"}
    status, report = api.call("imports", "POST", "/programs/demo/imports/i1/batches/1", {"members": [line]})
    assert status in (200, 201), report
    assert balance(api, "imported") == 0


def test_a_returning_member_sets_off_no_enrolment_campaign(api: Api) -> None:
    put(api, campaigns=[WELCOME_CAMPAIGN])
    assert api.call("enrol", "POST", ME, {}, sub="alice")[0] == 201
    assert api.call("enrol", "DELETE", f"{SERVER}/alice")[0] == 200
    status, again = api.call("enrol", "POST", ME, {}, sub="alice")
    assert status == 201 and again["points"]["balance"] == 0 and again["coupons"] == []


# ---- the enrolment's answer lists its coupons -------------------------------------------------------


def test_the_enrolment_answer_lists_the_coupons_it_issued_and_a_repeat_the_same(api: Api) -> None:
    put(api, campaigns=[WELCOME_CAMPAIGN])
    status, first = api.call("enrol", "POST", SERVER, {"member_id": "m1"})
    assert status == 201, first
    assert sorted(c["template_id"] for c in first["coupons"]) == ["gift-5", "welcome-10"]
    assert {c["status"] for c in first["coupons"]} == {"available"}
    wallet = api.call("members", "GET", f"{M}/coupons")[1]["coupons"]
    assert sorted(c["coupon_id"] for c in wallet) == sorted(c["coupon_id"] for c in first["coupons"])
    # Coupons issued later are not the enrolment's.
    status, order = api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 150000})
    assert status == 201 and order["coupons"], order
    status, again = api.call("enrol", "POST", SERVER, {"member_id": "m1"})
    assert status == 200 and again["coupons"] == first["coupons"]


def test_an_enrolment_issuing_no_coupon_answers_an_empty_list(api: Api) -> None:
    put(api)
    status, body = api.call("enrol", "POST", SERVER, {"member_id": "m1", "enrolled_at": "2020-01-02T03:04:05Z"})
    assert status == 201 and body["coupons"] == []
    status, body = api.call("enrol", "POST", SERVER, {"member_id": "m1", "enrolled_at": "2020-01-02T03:04:05Z"})
    assert status == 200 and body["coupons"] == []


# ---- PATCH: correcting the profile ------------------------------------------------------------------


@pytest.fixture
def m1(api: Api) -> None:
    put(api)
    assert api.call("enrol", "POST", SERVER, {"member_id": "m1", "birthday": "1990-05-17"})[0] == 201


def test_the_server_corrects_birthday_and_channel_audited(api: Api, m1: None) -> None:
    status, body = api.call("enrol", "PATCH", M, {"birthday": "1990-06-01", "channel": "pos"})
    assert status == 200, body
    assert (body["member_id"], body["birthday"], body["channel"]) == ("m1", "1990-06-01", "pos")
    assert body["points"]["balance"] == 100  # the member view
    view = api.call("members", "GET", M)[1]
    assert (view["birthday"], view["channel"]) == ("1990-06-01", "pos")
    assert audit(api) == ["profile", "enrolment"]
    # The server may change it again, any time.
    status, body = api.call("enrol", "PATCH", M, {"birthday": "07-02"})
    assert status == 200 and body["birthday"] == "07-02" and body["channel"] == "pos"
    assert audit(api) == ["profile", "profile", "enrolment"]


def test_a_patch_that_changes_nothing_answers_200_and_writes_nothing(api: Api, m1: None) -> None:
    items = api.items()
    status, body = api.call("enrol", "PATCH", M, {"birthday": "1990-05-17"})
    assert status == 200 and body["birthday"] == "1990-05-17"
    assert api.items() == items and audit(api) == ["enrolment"]


def test_a_member_changes_its_birthday_once(api: Api, m1: None) -> None:
    status, body = api.call("enrol", "PATCH", ME, {"birthday": "1990-05-18"}, sub="m1")
    assert status == 200 and body["birthday"] == "1990-05-18", body
    # The same value again is no change: 200, nothing written.
    items = api.items()
    status, body = api.call("enrol", "PATCH", ME, {"birthday": "1990-05-18"}, sub="m1")
    assert status == 200 and body["birthday"] == "1990-05-18" and api.items() == items
    status, body = api.call("enrol", "PATCH", ME, {"birthday": "1990-05-19"}, sub="m1")
    assert status == 409 and body["error"]["code"] == "limit_reached", body
    assert [d["field"] for d in body["error"]["details"]] == ["birthday"]
    assert api.call("members", "GET", M)[1]["birthday"] == "1990-05-18"
    # The server still may.
    status, body = api.call("enrol", "PATCH", M, {"birthday": "1990-05-19"})
    assert status == 200 and body["birthday"] == "1990-05-19"
    assert audit(api) == ["profile", "profile", "enrolment"]
    assert api.items() > items


@pytest.mark.parametrize(
    ("path", "body", "sub", "field"),
    [
        (M, {}, None, "body"),
        (M, None, None, "body"),
        (ME, {}, "m1", "birthday"),
        (ME, {"channel": "app"}, "m1", "channel"),
        (M, {"birthday": None}, None, "birthday"),
        (M, {"birthday": "1990-13-01"}, None, "birthday"),
        (M, {"nickname": "x"}, None, "nickname"),
    ],
)
def test_an_empty_or_bad_patch_is_422_naming_the_field(
    api: Api, m1: None, path: str, body: Any, sub: str | None, field: str
) -> None:
    status, answer = api.call("enrol", "PATCH", path, body, sub=sub)
    assert status == 422 and answer["error"]["code"] == "validation_error", answer
    assert field in [d["field"] for d in answer["error"]["details"]], answer


def test_patch_needs_an_enrolled_member_and_a_token(api: Api, m1: None) -> None:
    status, body = api.call("enrol", "PATCH", f"{SERVER}/nobody", {"channel": "pos"})
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = api.call("enrol", "PATCH", ME, {"birthday": "05-18"}, sub="nobody")
    assert status == 404 and body["error"]["code"] == "not_found"
    status, body = api.call("enrol", "PATCH", ME, {"birthday": "05-18"})
    assert status == 401 and body["error"]["code"] == "unauthorized"


def test_round_trips(api: Api, m1: None, calls: Counter[str]) -> None:  # noqa: F811 - the fixture
    api.call("members", "GET", M)  # warms the program cache
    patch = {"birthday": "1990-05-18"}
    assert measure(calls, api, "enrol", "PATCH", M, patch) == {"GetItem": 1, "TransactWriteItems": 1}
    assert measure(calls, api, "enrol", "PATCH", M, patch) == {"GetItem": 1}  # no change, no write
    # A repeated enrolment finds its coupons in the wallet: 1 Query more.
    assert measure(calls, api, "enrol", "POST", SERVER, {"member_id": "m1"}) == {
        "TransactWriteItems": 1,
        "GetItem": 1,
        "Query": 1,
    }


def test_re_enrolling_with_another_birthday_keeps_the_old_one(api: Api, m1: None) -> None:
    status, body = api.call("enrol", "POST", SERVER, {"member_id": "m1", "birthday": "1991-01-01"})
    assert status == 200 and body["birthday"] == "1990-05-17"


# ---- a birthday moved into the current month --------------------------------------------------------

MARCH = datetime(2026, 3, 10, 4, tzinfo=UTC)  # 12:00 in Shanghai


def run_benefits(at: datetime) -> None:
    for item in scheduler.plan(at, ["benefits"]):
        scheduler.work(store(), item, lambda: 900)


def birthday_gifts(api: Api, path: str = M) -> list[str]:
    wallet = api.call("members", "GET", f"{path}/coupons")[1]["coupons"]
    return sorted(c["source"] for c in wallet if c["source"].startswith("birthday:"))


@pytest.fixture
def march(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: MARCH)
    put(api)


def test_a_birthday_moved_within_a_month_already_given_is_not_given_twice(api: Api, march: None) -> None:
    assert api.call("enrol", "POST", SERVER, {"member_id": "m1", "birthday": "1990-03-20"})[0] == 201
    run_benefits(MARCH)
    assert birthday_gifts(api) == ["birthday:2026-03"]
    points = balance(api, "m1")
    # Out of March and back in (the server may), then a run: nothing more.
    assert api.call("enrol", "PATCH", M, {"birthday": "1990-04-02"})[0] == 200
    assert api.call("enrol", "PATCH", M, {"birthday": "1990-03-25"})[0] == 200
    run_benefits(MARCH)
    assert birthday_gifts(api) == ["birthday:2026-03"] and balance(api, "m1") == points


def test_a_birthday_moved_into_a_month_already_settled_waits_for_next_year(api: Api, march: None) -> None:
    assert api.call("enrol", "POST", SERVER, {"member_id": "m1", "birthday": "1990-02-20"})[0] == 201
    run_benefits(MARCH)
    assert birthday_gifts(api) == []
    status, body = api.call("enrol", "PATCH", ME, {"birthday": "1990-03-20"}, sub="m1")
    assert status == 200, body
    run_benefits(MARCH)
    assert birthday_gifts(api) == []


def test_a_birthday_moved_into_the_month_before_its_run_is_given_once(api: Api, march: None) -> None:
    assert api.call("enrol", "POST", SERVER, {"member_id": "m1", "birthday": "1990-02-20"})[0] == 201
    assert api.call("enrol", "PATCH", ME, {"birthday": "1990-03-20"}, sub="m1")[0] == 200
    run_benefits(MARCH)
    run_benefits(MARCH)
    assert birthday_gifts(api) == ["birthday:2026-03"]


def test_the_benefits_due_day_follows_the_profile(api: Api, march: None) -> None:
    # Birthdays settle with the month's benefits (DUE#benefits): a member is due on the first day of
    # each month whatever its birthday, so a move leaves the due day where it is.
    assert api.call("enrol", "POST", SERVER, {"member_id": "m1", "birthday": "1990-02-20"})[0] == 201
    run_benefits(MARCH)
    before = store().get_member("demo", "m1")
    assert before is not None and before.due_days["benefits"] == "2026-04-01"
    assert api.call("enrol", "PATCH", M, {"birthday": "1990-04-20"})[0] == 200
    after = store().get_member("demo", "m1")
    assert after is not None and after.due_days["benefits"] == "2026-04-01" and after.birthday == "1990-04-20"
