"""The members list on DynamoDB Local through the local runtime: a list pages through 1,000 members
without a duplicate or a gap while other members change tier and tags in parallel; what an audience
entry costs a write (ReturnConsumedCapacity)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from local.dynamodb import client
from local.stack import Stack
from loyalty.store.writes import audience_items
from tests.integration.conftest import Client

N = 1000
WRITERS = 6
PAGE = 37  # no page boundary falls on a multiple of the changers' step


def everyone(api: Client, pid: str, query: str) -> list[dict[str, Any]]:
    """One pass through a list, page by page."""
    seen, cursor = [], None
    while True:
        status, page = api.call(
            "GET", f"/programs/{pid}/members?{query}&limit={PAGE}" + (f"&cursor={cursor}" if cursor else "")
        )
        assert status == 200, page
        assert len(page["members"]) <= PAGE
        seen += page["members"]
        cursor = page["next_cursor"]
        if not cursor:
            return seen


def import_members(api: Client, pid: str, ids: list[str]) -> None:
    lines = [{"member_id": m, "enrolled_at": "2022-05-01T08:00:00Z", "tags": ["base"]} for m in ids]
    for n, at in enumerate(range(0, len(lines), 500), start=1):
        status, body = api.call("POST", f"/programs/{pid}/imports/aud/batches/{n}", {"members": lines[at : at + 500]})
        assert status in (200, 201) and body["imported"] == len(lines[at : at + 500]), body


def test_a_list_pages_through_1000_members_without_duplicate_or_gap_while_others_change(api: Client, pid: str) -> None:
    ids = [f"m{i:04d}" for i in range(N)]
    import_members(api, pid, ids)
    changers = ids[::4]  # 250 members move tier and tags while the lists are read; the rest never change
    stable = set(ids) - set(changers)
    done = threading.Event()

    def change(worker: int) -> int:
        writes = 0
        for mid in changers[worker::WRITERS]:
            path = f"/programs/{pid}/members/{mid}"
            assert api.call("PUT", f"{path}/tags", {"add": ["hot"], "remove": ["base"]})[0] == 200
            order = {"order_id": f"o-{mid}", "amount_minor": 200000}  # star -> gold
            assert api.call("POST", f"{path}/purchases", order)[0] == 201
            assert api.call("PUT", f"{path}/tags", {"add": ["base"]})[0] == 200
            writes += 3
        return writes

    passes = overlapped = 0
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        writers = [pool.submit(change, w) for w in range(WRITERS)]
        threading.Thread(target=lambda: (wait(writers), done.set()), daemon=True).start()
        while not done.is_set() or passes < 2:
            overlapped += not done.is_set()  # this pass began while members were changing
            for query, attribute in (
                ("tier=star", lambda m: m["tier"]["id"] == "star"),
                ("tag=base", lambda m: "base" in m["tags"]),
            ):
                listed = everyone(api, pid, query)
                got = [m["member_id"] for m in listed]
                assert len(got) == len(set(got)), f"{query}: a member listed twice"
                assert got == sorted(got), f"{query}: not in member id order"
                assert stable <= set(got), f"{query}: stable members missing: {sorted(stable - set(got))[:5]}"
                assert all(attribute(m) for m in listed), f"{query}: a member shown without the attribute"
            passes += 1
        assert sum(w.result() for w in writers) == 3 * len(changers)
    assert overlapped >= 1, "no list was read while members changed"
    # Once the writes have answered, every list says what the profiles say.
    assert [m["member_id"] for m in everyone(api, pid, "tier=star")] == sorted(stable)
    assert [m["member_id"] for m in everyone(api, pid, "tier=gold")] == changers
    assert [m["member_id"] for m in everyone(api, pid, "tag=hot")] == changers
    assert [m["member_id"] for m in everyone(api, pid, "tag=base")] == ids


def test_what_an_audience_entry_costs_a_write(stack: Stack) -> None:
    """One entry, as the member write builds it, alone in a transaction (DynamoDB Local reports no more
    than 6 WCU for any transaction of two items or more, so each is measured alone): README."""
    ddb = client(stack.ddb.endpoint)
    costs = {}
    for name, joins in (("put", True), ("delete", False)):
        [(_, item)] = audience_items("LoyaltyTable", "p-cost", "m1", {"tag#tea": joins})
        got = ddb.transact_write_items(TransactItems=[item], ReturnConsumedCapacity="INDEXES")["ConsumedCapacity"][0]
        costs[name] = (got["Table"]["CapacityUnits"], got["GlobalSecondaryIndexes"]["gsi1"]["CapacityUnits"])
    print("an audience entry in a transaction, (table, gsi1) WCU:", costs)
    assert costs == {"put": (2.0, 2.0), "delete": (2.0, 2.0)}
