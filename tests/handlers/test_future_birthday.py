"""A birthday after today (in the program's zone) is a 422 naming `birthday`, found by an acceptance run:
on enrolment (server and POST /me), on a correction (PATCH) and on an import line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.handlers.conftest import Api
from tests.handlers.test_api import M, assert_error, enrol

TODAY = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()  # the demo program's zone
TOMORROW = (TODAY + timedelta(days=1)).isoformat()


@pytest.mark.parametrize("birthday", ["2999-01-01", TOMORROW])
def test_a_future_birthday_is_refused_on_enrolment(api: Api, demo: str, birthday: str) -> None:
    items = api.items()
    status, body = api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1", "birthday": birthday})
    assert_error(status, body, 422, "validation_error", "birthday")
    status, body = api.call("enrol", "POST", "/programs/demo/me", {"birthday": birthday}, sub="u-7")
    assert_error(status, body, 422, "validation_error", "birthday")
    assert api.items() == items  # nobody enrolled


@pytest.mark.parametrize("birthday", [TODAY.isoformat(), "1990-05-17", "12-31", "02-29"])
def test_a_birthday_up_to_today_or_without_a_year_is_taken(api: Api, demo: str, birthday: str) -> None:
    assert enrol(api, birthday=birthday)["birthday"] == birthday
    status, body = api.call("enrol", "POST", "/programs/demo/me", {"birthday": birthday}, sub="u-7")
    assert status == 201 and body["birthday"] == birthday, body


def test_a_correction_to_a_future_birthday_is_refused(api: Api, demo: str) -> None:
    enrol(api, birthday="1990-05-17")
    assert_error(*api.call("enrol", "PATCH", M, {"birthday": "2999-01-01"}), 422, "validation_error", "birthday")
    api.call("enrol", "POST", "/programs/demo/me", {}, sub="u-7")
    status, body = api.call("enrol", "PATCH", "/programs/demo/me", {"birthday": TOMORROW}, sub="u-7")
    assert_error(status, body, 422, "validation_error", "birthday")
    assert api.call("members", "GET", M)[1]["birthday"] == "1990-05-17"


def test_an_import_line_with_a_future_birthday_is_refused_by_number(api: Api, demo: str) -> None:
    lines = [
        {"member_id": m, "enrolled_at": "2021-03-14T09:30:00Z", "birthday": b}
        for m, b in [("a", "1990-05-17"), ("b", "2999-01-01")]
    ]
    status, result = api.call("imports", "POST", "/programs/demo/imports/i1/batches/1", {"members": lines})
    assert status == 201 and result["imported"] == 1, result
    assert {(p["line"], p["field"]) for p in result["problems"]} == {(2, "birthday")}
