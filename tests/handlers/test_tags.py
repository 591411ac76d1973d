"""Member tags through the real handlers (moto): the tags route, the member view, tag_benefits issued by
the monthly benefits sweep, and activity streaks in the activity response."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from loyalty.program import MAX_TAGS
from tests.handlers.conftest import Api
from tests.handlers.test_cost import calls, measure  # noqa: F401 - calls is a fixture
from tests.support import program

M = "/programs/demo/members/m1"


def put_tags(api: Api, add: list[str] | None = None, remove: list[str] | None = None, path: str = M) -> tuple:
    body = {k: v for k, v in {"add": add, "remove": remove}.items() if v is not None}
    return api.call("enrol", "PUT", f"{path}/tags", body)


def test_tags_are_added_removed_and_shown_in_the_member_view(api: Api, demo: str) -> None:
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201
    assert api.call("members", "GET", M)[1]["tags"] == []
    status, body = put_tags(api, ["tea", "baby", "tea"])
    assert (status, body) == (200, {"program_id": "demo", "member_id": "m1", "tags": ["baby", "tea"]})
    assert put_tags(api, ["tea", "baby"]) == (200, body)  # a repeat: the same tags
    assert put_tags(api, ["coffee"], ["tea", "never-held"])[1]["tags"] == ["baby", "coffee"]
    assert api.call("members", "GET", M)[1]["tags"] == ["baby", "coffee"]


def test_unknown_member_and_bad_bodies_name_their_field(api: Api, demo: str) -> None:
    status, body = put_tags(api, ["tea"], path="/programs/demo/members/nobody")
    assert status == 404 and body["error"]["details"][0]["field"] == "member_id"
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    for bad, field in (
        ({"add": ["tea"], "remove": ["tea"]}, "remove"),
        ({"add": ["not a tag"]}, "add[0]"),
        ({"add": "tea"}, "add"),
        ({"tag": ["tea"]}, "tag"),
    ):
        status, body = api.call("enrol", "PUT", f"{M}/tags", bad)
        assert status == 422 and body["error"]["code"] == "validation_error", bad
        assert [d["field"] for d in body["error"]["details"]] == [field], bad
    assert put_tags(api, [f"t{i:02d}" for i in range(MAX_TAGS)])[0] == 200
    status, body = put_tags(api, ["one-more"])
    assert status == 422 and body["error"]["details"][0]["field"] == "add"
    assert len(api.call("members", "GET", M)[1]["tags"]) == MAX_TAGS  # nothing changed


def test_round_trips_of_the_tags_route(api: Api, calls: Counter[str]) -> None:  # noqa: F811 - the fixture
    api.call("programs", "PUT", "/programs/demo", program("demo"))
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})  # warms the program cache
    # The profile, then one version-guarded transaction (the profile and the DUE items it moves).
    assert measure(calls, api, "enrol", "PUT", f"{M}/tags", {"add": ["tea"]}) == {"GetItem": 1, "TransactWriteItems": 1}
    assert measure(calls, api, "enrol", "PUT", f"{M}/tags", {"add": ["tea"]}) == {"GetItem": 1}  # no change: no write


def test_an_activity_answers_its_streak(api: Api, demo: str) -> None:
    api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})
    day = datetime.now(UTC) - timedelta(days=3)
    streaks = []
    for i in range(4):
        activity = {"activity_id": f"a{i}", "type": "check_in", "at": (day + timedelta(days=i)).isoformat()}
        status, body = api.call("earn", "POST", f"{M}/activities", activity)
        assert status == 201, body
        streaks.append(body["streak_days"])
    assert streaks == [1, 2, 3, 4]
    again = {"activity_id": "a3", "type": "check_in", "at": (day + timedelta(days=3)).isoformat()}
    assert api.call("earn", "POST", f"{M}/activities", again) == (200, body)  # a repeat: the first result
