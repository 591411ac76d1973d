"""Member tags through the real handlers (moto): the tags route, the member view, tag_benefits issued by
the monthly benefits sweep, and activity streaks in the activity response."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from loyalty.program import MAX_TAGS
from loyalty.runtime import store
from loyalty.schemas import Enrol, TagsChange
from loyalty.usecases import members
from tests.handlers.conftest import Api
from tests.handlers.test_budgets import run_kind
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


def test_the_benefits_sweep_issues_a_tag_s_grant_once_a_month(api: Api) -> None:
    doc = program("demo")
    doc["coupons"]["baby-10"] = {"name": "10 off", "kind": "amount_off", "value_minor": 1000, "valid_days": 30}
    doc["tag_benefits"] = {"baby": {"points": 20, "coupons": ["baby-10"], "budget": 100}}
    doc["tiers"]["levels"][1].pop("every_month")
    doc["lifecycle"].pop("birthday")  # only the tag's benefit: members without the tag are never due for it
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    t0 = datetime(2026, 1, 5, 4, tzinfo=UTC)
    for member in ("m1", "m2"):
        members.enrol(store(), "demo", Enrol(member_id=member), t0)
    assert run_kind("benefits", t0) == 0  # nobody holds the tag yet
    t1 = t0 + timedelta(days=5)
    assert members.set_tags(store(), "demo", "m1", TagsChange(add=["baby"]), t1).tags == ["baby"]

    def tag_coupons() -> list[str]:
        return sorted(c.source for c in store().coupons("demo", "m1") if c.source.startswith("tag:"))

    assert run_kind("benefits", t1) == 1  # tagged mid-month: due at once
    assert tag_coupons() == ["tag:baby:2026-01"]
    assert run_kind("benefits", t1 + timedelta(days=1)) == 0  # January is settled
    assert run_kind("benefits", datetime(2026, 2, 1, 4, tzinfo=UTC)) == 1  # February, once
    assert run_kind("benefits", datetime(2026, 2, 2, 4, tzinfo=UTC)) == 0
    assert tag_coupons() == ["tag:baby:2026-01", "tag:baby:2026-02"]
    entries, _ = store().ledger("demo", "m1", 10, None)
    assert sorted(e.ref for e in entries if e.ref and e.ref.startswith("tag:")) == tag_coupons()  # 20 points each
    assert [c.source for c in store().coupons("demo", "m2")] == ["welcome:m2"]  # never tagged: nothing
    members.set_tags(store(), "demo", "m1", TagsChange(remove=["baby"]), datetime(2026, 2, 3, 4, tzinfo=UTC))
    assert run_kind("benefits", datetime(2026, 3, 1, 4, tzinfo=UTC)) == 0  # untagged: no longer due
    assert len(tag_coupons()) == 2


def test_an_activity_answers_its_streak(api: Api, demo: str) -> None:
    day = datetime.now(UTC) - timedelta(days=3)
    enrolled = {"member_id": "m1", "enrolled_at": (day - timedelta(days=1)).isoformat()}
    assert api.call("enrol", "POST", "/programs/demo/members", enrolled)[0] == 201  # the activities are its
    streaks = []
    for i in range(4):
        activity = {"activity_id": f"a{i}", "type": "check_in", "at": (day + timedelta(days=i)).isoformat()}
        status, body = api.call("earn", "POST", f"{M}/activities", activity)
        assert status == 201, body
        streaks.append(body["streak_days"])
    assert streaks == [1, 2, 3, 4]
    again = {"activity_id": "a3", "type": "check_in", "at": (day + timedelta(days=3)).isoformat()}
    assert api.call("earn", "POST", f"{M}/activities", again) == (200, body)  # a repeat: the first result
