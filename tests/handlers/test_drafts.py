"""Program drafts: saved and checked like a program but not live, published (409 when the live version
moved, unless forced), and old versions restored; the history says who saved and who published."""

from __future__ import annotations

from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.support import program

D = "/programs/demo/drafts/spring"
ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:user/bob"


def test_a_draft_is_saved_not_live_and_keeps_its_base_version(api: Api, demo: str) -> None:
    status, draft = api.call("programs", "PUT", D, {**program("demo"), "name": "Spring"}, iam=ALICE)
    assert status == 200, draft
    assert (draft["base_version"], draft["revision"], draft["saved_by"], draft["problems"]) == (1, 1, ALICE, [])
    assert api.call("programs", "GET", "/programs/demo")[1]["name"] != "Spring"  # nothing live
    assert api.call("programs", "PUT", "/programs/demo", {**program("demo"), "name": "Two"})[0] == 200
    status, draft = api.call("programs", "PUT", D, {**program("demo"), "name": "Spring 2"}, iam=BOB)
    assert (status, draft["base_version"], draft["revision"]) == (200, 1, 2)  # the base stays
    status, got = api.call("programs", "GET", D)
    assert status == 200 and got["document"]["name"] == "Spring 2" and got["saved_by"] == BOB and got["saved_at"]
    assert_error(*api.call("programs", "GET", "/programs/demo/drafts/nope"), 404, "not_found", "draft_id")


def test_every_draft_problem_is_listed_and_nothing_is_saved(api: Api, demo: str) -> None:
    doc = program("demo")
    doc["tiers"]["levels"][2]["threshold"] = 50  # below gold
    doc["rewards"][0]["grant"]["coupons"] = ["nope"]
    doc["lifecycle"]["recall"]["after_days"] = 10  # before the churn warning
    status, body = api.call("programs", "PUT", D, doc)
    assert_error(status, body, 422, "program_invalid")
    fields = {d["field"] for d in body["error"]["details"]}
    assert {"tiers.levels[2].threshold", "rewards[0].grant.coupons[0]", "lifecycle.recall.after_days"} <= fields
    assert_error(*api.call("programs", "GET", D), 404, "not_found", "draft_id")


def test_publish_refuses_a_moved_base_unless_forced_and_a_repeat_answers_the_same(api: Api, demo: str) -> None:
    assert api.call("programs", "PUT", D, {**program("demo"), "name": "Spring"}, iam=ALICE)[0] == 200
    assert api.call("programs", "PUT", "/programs/demo", {**program("demo"), "name": "Moved"})[0] == 200
    status, body = api.call("programs", "POST", f"{D}/publish", {}, iam=BOB)
    assert_error(status, body, 409, "conflict", "base_version")
    assert api.call("programs", "GET", "/programs/demo")[1]["name"] == "Moved"
    status, saved = api.call("programs", "POST", f"{D}/publish", {"force": True}, iam=BOB)
    assert (status, saved["program_id"], saved["version"]) == (200, "demo", 3), saved
    assert api.call("programs", "GET", "/programs/demo")[1]["name"] == "Spring"
    assert api.call("programs", "POST", f"{D}/publish", {"force": True})[1]["version"] == 3  # the same
    assert api.call("programs", "POST", f"{D}/publish")[1]["version"] == 3  # no body: not forced
    assert_error(*api.call("programs", "POST", f"{D}/publish", raw_body="[true]"), 422, "validation_error", "body")
    assert_error(*api.call("programs", "POST", f"{D}/publish", {"force": 1}), 422, "validation_error", "force")
    # a misspelt force is refused, not read as "not forced"
    assert_error(*api.call("programs", "POST", f"{D}/publish", {"forse": True}), 422, "validation_error", "forse")
    history = api.call("programs", "GET", "/programs/demo/versions")[1]["versions"]
    assert history[0] | {"saved_at": None} == {
        "version": 3,
        "saved_at": None,
        "saved_by": ALICE,
        "published_by": BOB,
        "restored_from": None,
        "draft_id": "spring",
    }
    # Edited after its publish: the live version is the draft's own, so no conflict.
    assert api.call("programs", "PUT", D, {**program("demo"), "name": "Spring 2"})[0] == 200
    assert api.call("programs", "POST", f"{D}/publish")[1]["version"] == 4
    assert_error(*api.call("programs", "POST", "/programs/demo/drafts/nope/publish"), 404, "not_found", "draft_id")


def test_publish_without_a_move_needs_no_force(api: Api, demo: str) -> None:
    assert api.call("programs", "PUT", D, {**program("demo"), "name": "Spring"})[0] == 200
    status, saved = api.call("programs", "POST", f"{D}/publish", {"force": False})
    assert (status, saved["version"]) == (200, 2), saved


def test_restore_makes_a_new_version_equal_to_an_old_one(api: Api, demo: str) -> None:
    assert api.call("programs", "PUT", "/programs/demo", {**program("demo"), "name": "Two"})[0] == 200
    status, saved = api.call("programs", "POST", "/programs/demo/versions/1/restore", iam=ALICE)
    assert (status, saved["version"]) == (200, 3), saved
    live = api.call("programs", "GET", "/programs/demo")[1]
    first = api.call("programs", "GET", "/programs/demo/versions/1")[1]["document"]
    assert {k: v for k, v in live.items() if k not in ("program_id", "version")} == first
    entry = api.call("programs", "GET", "/programs/demo/versions/3")[1]
    assert (entry["restored_from"], entry["saved_by"], entry["published_by"]) == (1, ALICE, ALICE)
    assert_error(*api.call("programs", "POST", "/programs/demo/versions/9/restore"), 404, "not_found", "version")
    assert_error(*api.call("programs", "POST", "/programs/nope/versions/1/restore"), 404, "not_found", "program_id")
