"""A member's birthday change under concurrency, through the local runtime on DynamoDB Local: racing
PATCH /me requests change the birthday exactly once (issue 28.6)."""

from __future__ import annotations

from tests.integration.conftest import Client
from tests.integration.test_parallel import parallel


def test_racing_birthday_changes_of_one_member_change_it_once(api: Client, pid: str) -> None:
    me = api.as_member("m1")
    status, body = me("POST", f"/programs/{pid}/me", {"birthday": "1990-05-17"})
    assert status == 201, body
    # 8 racers, two of each value: one value wins; its twin finds it set already (no change: 200, no
    # write); every other racer finds the member's one change spent (409 limit_reached).
    wanted = [f"1990-06-0{1 + i // 2}" for i in range(8)]
    results = parallel([lambda day=day: me("PATCH", f"/programs/{pid}/me", {"birthday": day}) for day in wanted])
    ok = [body for status, body in results if status == 200]
    refused = [body for status, body in results if status == 409]
    assert len(ok) == 2 and len(refused) == 6, results
    won = ok[0]["birthday"]
    assert ok[1]["birthday"] == won and wanted.count(won) == 2
    assert {body["error"]["code"] for body in refused} == {"limit_reached"}
    status, view = me("GET", f"/programs/{pid}/me")
    assert status == 200 and view["birthday"] == won
    status, trail = api.call("GET", f"/programs/{pid}/members/m1/audit")
    assert status == 200 and [e["what"] for e in trail["entries"]] == ["profile", "enrolment"], trail
    # A later change by the member is refused too; the server may still correct it.
    status, body = me("PATCH", f"/programs/{pid}/me", {"birthday": "1990-07-01"})
    assert status == 409 and body["error"]["code"] == "limit_reached"
    status, body = api.call("PATCH", f"/programs/{pid}/members/m1", {"birthday": "1990-07-01", "channel": "pos"})
    assert status == 200 and (body["birthday"], body["channel"]) == ("1990-07-01", "pos")
