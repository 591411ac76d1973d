"""Operating a member base on DynamoDB Local through the local runtime: adjustments and erasures in
parallel, exactly once, never below zero; the audit trail names who wrote what."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from local.stack import Stack
from tests.integration.conftest import Client
from tests.integration.test_expiry_sweep import invoke
from tests.integration.test_health import wait_for
from tests.integration.test_parallel import assert_ledger_is_the_balance, enrol, parallel

N = 8


def rich(api: Client, pid: str, member: str) -> int:
    enrol(api, pid, member)
    order = {"order_id": f"o-{member}", "amount_minor": 40000}
    assert api.call("POST", f"/programs/{pid}/members/{member}/purchases", order)[0] == 201
    return int(api.call("GET", f"/programs/{pid}/members/{member}")[1]["points"]["balance"])


def adjustment(api: Client, pid: str, adjustment_id: str, points: int) -> Any:
    body = {"adjustment_id": adjustment_id, "points": points, "reason": "support ticket 42"}
    return lambda: api.call("POST", f"/programs/{pid}/members/m1/adjustments", body, actor="desk:ana")


def test_parallel_duplicate_adjustments_apply_once(api: Client, pid: str) -> None:
    balance = rich(api, pid, "m1")
    replies = parallel([adjustment(api, pid, "adj-dup", 250) for _ in range(N)])
    assert sorted(status for status, _ in replies) == [200] * (N - 1) + [201], replies
    assert len({str(body) for _, body in replies}) == 1  # every repeat answers the first result
    assert assert_ledger_is_the_balance(api, pid, "m1") == balance + 250


def test_parallel_debits_never_go_below_zero(api: Client, pid: str) -> None:
    balance = rich(api, pid, "m1")
    share = balance // 3 + 1  # only two of them fit
    replies = parallel([adjustment(api, pid, f"adj-{i}", -share) for i in range(N)])
    codes = Counter(status if status != 409 else body["error"]["code"] for status, body in replies)
    assert codes == {201: 2, "insufficient_points": N - 2}, replies
    assert assert_ledger_is_the_balance(api, pid, "m1") == balance - 2 * share


def test_the_audit_names_who_wrote_what(api: Client, pid: str) -> None:
    rich(api, pid, "m1")
    assert adjustment(api, pid, "adj-1", 5)()[0] == 201
    assert (
        api.as_member("m1")("POST", f"/programs/{pid}/me/activities", {"activity_id": "a1", "type": "check_in"})[0]
        == 201
    )
    status, trail = api.call("GET", f"/programs/{pid}/members/m1/audit")
    assert status == 200, trail
    assert [(e["what"], e["client_id"], e["actor"]) for e in trail["entries"]] == [
        ("activity", "a1", "member:m1"),
        ("adjustment", "adj-1", "desk:ana"),
        ("order", "o-m1", "local"),
        ("enrolment", None, "local"),
    ]


def test_parallel_erasures_erase_once_and_the_liability_falls(api: Client, pid: str) -> None:
    kept = rich(api, pid, "keep")
    balance = rich(api, pid, "m1")
    # The stream counts a moment later: both members and all their points.
    before = wait_for(api, pid, lambda f: f["members"] == 2 and f["points_liability"]["points"] == kept + balance)
    liability = before["points_liability"]["points"]
    assert liability == kept + balance
    purchases = [
        lambda i=i: api.call(
            "POST", f"/programs/{pid}/members/m1/purchases", {"order_id": f"late-{i}", "amount_minor": 100}
        )
        for i in range(N)
    ]
    erasures = [lambda: api.call("DELETE", f"/programs/{pid}/members/m1") for _ in range(N)]
    replies = parallel([call for pair in zip(erasures, purchases, strict=True) for call in pair])
    erased = [body for _, body in replies[0::2]]
    assert all(status == 200 for status, _ in replies[0::2]), replies
    assert len({str(body) for body in erased}) == 1  # one erasure; every other DELETE answers its result
    late = [status for status, _ in replies[1::2]]
    assert set(late) <= {201, 404}, replies  # before the erasure, or a member no longer there
    assert erased[0]["points_removed"] >= balance
    assert api.call("GET", f"/programs/{pid}/members/m1")[0] == 404
    # What the late purchases credited before the erasure left with it: the liability is the other member's.
    after = wait_for(api, pid, lambda f: f["members"] == 1 and f["points_liability"]["points"] == liability - balance)
    assert (after["members"], after["points_liability"]["points"]) == (1, liability - balance)
    days = api.call("GET", f"/programs/{pid}/health/days")[1]["days"]
    today = days[-1]
    assert (today["members"], today["members_erased"], today["new_members"]) == (1, 1, 2)
    assert today["points_liability"] == liability - balance and days[-2]["members"] == 0
    # A new enrolment of the same id is a new member, with nothing of the old one (and, returning, no
    # second welcome pack).
    enrol(api, pid, "m1")
    assert [e["what"] for e in api.call("GET", f"/programs/{pid}/members/m1/audit")[1]["entries"]] == ["enrolment"]
    assert api.call("GET", f"/programs/{pid}/members/m1/ledger")[1]["entries"] == []


def test_the_scheduled_work_page_shows_the_last_runs_and_the_queues(stack: Stack, api: Client) -> None:
    at = datetime(2026, 2, 1, 12, tzinfo=UTC)
    planned = invoke(stack, at)["planned"]
    status, work = api.call("GET", "/operations/scheduled")
    assert status == 200, work
    [run] = [r for r in work["runs"] if r["kinds"] == ["expire", "remind"]]
    assert (run["at"], run["planned"]) == ("2026-02-01T12:00:00Z", planned)
    assert set(work["queues"]) == {"WorkQueue", "WorkDeadLetterQueue", "ScheduleDeadLetterQueue"}
    assert work["queues"]["WorkQueue"] == {"waiting": 0, "in_flight": 0}  # the invoke waited for its work
