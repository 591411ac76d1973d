"""Bulk import on DynamoDB Local through the local runtime: parallel batches (and their duplicates)
import each member once; a file in the import bucket fans out through the work queue; an imported
member gets its reminder and its expiry from the scheduled engine."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from local.dynamodb import client
from local.stack import Stack
from loyalty.store import Store
from tests.integration.conftest import Client, lambda_client
from tests.integration.test_expiry_sweep import invoke
from tests.integration.test_parallel import assert_ledger_is_the_balance, parallel

LATER = (datetime.now(UTC) + timedelta(days=200)).date().isoformat()


def line(member_id: str, points: int = 100, expires_on: str = LATER, **kw: Any) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "enrolled_at": "2022-05-01T08:00:00Z",
        "points": [{"points": points, "expires_on": expires_on}],
        **kw,
    }


def report(api: Client, pid: str, import_id: str) -> dict[str, Any]:
    status, body = api.call("GET", f"/programs/{pid}/imports/{import_id}")
    assert status == 200, body
    return body


def test_parallel_batches_and_their_duplicates_import_each_member_once(api: Client, pid: str) -> None:
    batches = {n: [line(f"b{n}-{i}", points=10 + i) for i in range(60)] for n in range(1, 5)}

    def send(n: int) -> Any:
        return lambda: api.call("POST", f"/programs/{pid}/imports/imp/batches/{n}", {"members": batches[n]})

    replies = parallel([send(n) for n in batches] * 2)  # every batch twice, all at once
    assert all(status in (200, 201) for status, _ in replies), replies
    results = [body for _, body in replies]
    assert all(r["imported"] == 60 and r["refused"] == 0 and r["skipped"] == 0 for r in results), results
    got = report(api, pid, "imp")
    assert (got["batches"], got["lines_read"], got["imported"], got["refused"]) == (4, 240, 240, 0)
    for members in batches.values():
        for i in (0, 59):
            assert assert_ledger_is_the_balance(api, pid, members[i]["member_id"]) == 10 + i
    figures = api.call("GET", f"/programs/{pid}/health")[1]
    deadline = time.monotonic() + 45
    while figures["members"] < 240 and time.monotonic() < deadline:  # the stream counts them a moment later
        time.sleep(0.5)
        figures = api.call("GET", f"/programs/{pid}/health")[1]
    assert figures["members"] == 240
    assert figures["points_liability"]["points"] == 4 * sum(10 + i for i in range(60))


def test_a_file_in_the_import_bucket_fans_out_through_the_work_queue(stack: Stack, api: Client, pid: str) -> None:
    assert stack.buckets is not None
    bucket = stack.buckets.names["ImportBucket"]
    rows = [json.dumps(line(f"f{i}")) for i in range(1, 1101)]
    rows[9] = "{not json"  # line 10
    rows[700] = json.dumps(line("f701", tier_id="platinum"))  # line 701: an unknown tier
    rows.insert(500, "")  # a blank line (line 501) is no member
    body = ("\n".join(rows) + "\n").encode()
    key = f"imports/{pid}/crm-file.jsonl"
    stack.buckets.s3.put_object(Bucket=bucket, Key=key, Body=body)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, got = api.call("GET", f"/programs/{pid}/imports/crm-file")
        if status == 200 and got["batches"] == 3:
            break
        time.sleep(1)
    assert (got["batches"], got["lines_read"], got["imported"], got["refused"]) == (3, 1100, 1098, 2), got
    assert [(p["line"], p["field"]) for p in got["problems"]] == [(10, "line"), (702, "tier_id")]
    assert api.call("GET", f"/programs/{pid}/members/f1100")[1]["points"]["balance"] == 100
    audit = api.call("GET", f"/programs/{pid}/members/f1/audit")[1]["entries"]
    assert audit[0]["actor"] == f"s3://{bucket}/{key}" and audit[0]["what"] == "import"
    # S3 delivers a notification at least once: the same event again changes nothing.
    event = {"Records": [{"s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": len(body)}}}]}
    reply = lambda_client(stack).invoke(FunctionName="ImportFileFunction", Payload=json.dumps(s3_event(event)))
    assert json.loads(reply["Payload"].read())["planned"] == 3
    assert report(api, pid, "crm-file") == got


def s3_event(short: dict[str, Any]) -> dict[str, Any]:
    from local.buckets import notification

    record = short["Records"][0]["s3"]
    return notification(record["bucket"]["name"], record["object"]["key"], record["object"]["size"], '"x"')


def test_an_imported_member_gets_its_reminder_and_its_expiry(stack: Stack, api: Client, pid: str) -> None:
    soon = (datetime.now(UTC) + timedelta(days=5)).date()
    members = [line("soon", points=40, expires_on=soon.isoformat())]
    assert api.call("POST", f"/programs/{pid}/imports/due/batches/1", {"members": members})[0] == 201
    invoke(stack, datetime.now(UTC))
    store = Store("LoyaltyTable", client(stack.ddb.endpoint))
    notices = store._query(f"MEMBER#{pid}#soon", "NOTICE#", 10, None, newest_first=False)[0]
    # (the same runs also recall the imported member, long without an order: a recall_offer notice)
    reminders = [(n["kind"], n["points"], n["expires_on"]) for n in notices if n["kind"] == "points_expiring"]
    assert reminders == [("points_expiring", 40, soon.isoformat())]
    invoke(stack, datetime.combine(soon + timedelta(days=2), datetime.min.time(), UTC) + timedelta(hours=12))
    ledger = api.call("GET", f"/programs/{pid}/members/soon/ledger")[1]["entries"]
    assert (ledger[0]["type"], ledger[0]["points"], ledger[0]["balance_after"]) == ("expire", -40, 0)
