"""tag_added on DynamoDB Local through the local runtime (issue 31): parallel writes that add the
same tag to one member set off its campaigns once, and the points they give are in the ledger once."""

from __future__ import annotations

from typing import Any

from local.stack import Stack
from tests.integration.conftest import Client
from tests.integration.test_campaigns import buy, enrol, fresh
from tests.integration.test_parallel import parallel

WELCOME = {"id": "vip-welcome", "name": "vip welcome", "trigger": "tag_added", "when": "tag == 'vip'"}


def tag(api: Client, pid: str, member: str, add: list[str]) -> Any:
    return lambda: api.call("PUT", f"/programs/{pid}/members/{member}/tags", {"add": add})


def ledger_points(api: Client, pid: str, member: str) -> list[int]:
    status, body = api.call("GET", f"/programs/{pid}/members/{member}/ledger")
    assert status == 200, body
    return [e["points"] for e in body["entries"] if e["ref"].startswith("tag:vip:")]


def test_parallel_tag_adds_set_off_tag_added_once(stack: Stack, api: Client) -> None:
    pid = fresh(api, {**WELCOME, "effects": [{"points": 30}]})
    enrol(api, pid, 1)
    results = parallel([tag(api, pid, "m0", ["vip"]) for _ in range(8)])
    assert [s for s, _ in results] == [200] * 8 and all(b["tags"] == ["vip"] for _, b in results)
    assert ledger_points(api, pid, "m0") == [30]
    status, member = api.call("GET", f"/programs/{pid}/members/m0")
    assert status == 200 and member["points"]["balance"] == 100 + 30  # the welcome, then the tag's


def test_parallel_purchases_that_tag_the_member_set_off_tag_added_once(stack: Stack, api: Client) -> None:
    tagger = {"id": "tagger", "name": "tagger", "trigger": "purchase", "effects": [{"tag": "vip"}]}
    pid = fresh(api, tagger, {**WELCOME, "effects": [{"points": 30}]})
    enrol(api, pid, 1)
    results = parallel([buy(api, pid, "m0", f"o{i}") for i in range(6)])
    assert [s for s, _ in results] == [201] * 6
    welcomed = [b for _, b in results if any(c["campaign_id"] == "vip-welcome" for c in b["breakdown"]["campaigns"])]
    assert len(welcomed) == 1  # the first purchase to commit tagged the member; the others found it held
    assert ledger_points(api, pid, "m0") == [30]
