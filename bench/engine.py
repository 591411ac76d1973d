"""Scale proof of the scheduled engine (`python -m bench.engine`): members seeded straight into
DynamoDB Local, a share of them due for the churn sweep today; one planned run worked in-process.
Counts what the run reads, per due member, and how its time follows the members due, not held."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from local.dynamodb import DynamoDBLocal, client, create_tables_from_template  # noqa: E402
from local.template import load_template  # noqa: E402
from loyalty.member import Profile  # noqa: E402
from loyalty.store import Store, _dump, due_shard  # noqa: E402
from loyalty.usecases import engine, programs  # noqa: E402
from tests.support import program  # noqa: E402

RUN = datetime(2026, 6, 15, 4, tzinfo=UTC)
TODAY = "2026-06-15"


def seed(ddb: Any, pid: str, held: int, due: int) -> None:
    """`held` members, the first `due` of them 30 days idle today; the rest due months from now."""
    idle, busy = RUN - timedelta(days=30), RUN - timedelta(days=2)

    def items(i: int) -> list[dict[str, Any]]:
        member = f"m{i:07d}"
        is_due = i < due
        day = TODAY if is_due else "2026-09-30"
        profile = Profile(
            program_id=pid,
            member_id=member,
            version=1,
            enrolled_at=idle - timedelta(days=5),
            lifecycle_stage="active",
            last_purchase_at=idle if is_due else busy,
            due_days={"churn": day},
        )
        pk = f"MEMBER#{pid}#{member}"
        due_item = {
            "pk": pk,
            "sk": "DUE#churn",
            "type": "due",
            "day": day,
            "gsi1pk": f"DUE#{pid}#churn#{day}#{due_shard(member)}",
            "gsi1sk": member,
        }
        return [{"pk": pk, "sk": "PROFILE", "type": "member", **profile.model_dump(mode="json")}, due_item]

    def write(start: int) -> None:
        batch = [
            {"PutRequest": {"Item": _dump(item)}} for i in range(start, min(start + 12, held)) for item in items(i)
        ]
        request = {"LoyaltyTable": batch}
        while request:
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(0, held, 12)))


def run(store: Store, pid: str) -> dict[str, float]:
    reads: Counter[str] = Counter()

    def count(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query":
            reads["query_calls"] += 1
            reads["index_items"] += parsed.get("Count", 0)
        elif model.name == "GetItem":
            reads["profile_reads"] += 1

    store.client.meta.events.register("after-call.dynamodb", count)
    started = time.perf_counter()
    items = [i for i in engine.plan(store, RUN, ["churn"]) if i.program_id == pid]
    settled = 0
    for item in items:
        stats, rest = engine.work(store, item, lambda: 900)
        settled += stats.get("members_settled", 0)
        assert rest is None
    seconds = time.perf_counter() - started
    store.client.meta.events.unregister("after-call.dynamodb", count)
    return {"work_items": len(items), "settled": settled, "seconds": seconds, **reads}


def main() -> None:
    held_sizes = [int(x) for x in os.environ.get("BENCH_HELD", "10000,100000").split(",")]
    ddb_local = DynamoDBLocal().start()
    try:
        os.environ.setdefault("PROGRAM_CACHE_TTL_SECONDS", "300")
        ddb = client(ddb_local.endpoint)
        create_tables_from_template(ddb, load_template())
        store = Store("LoyaltyTable", ddb)
        rows = []
        for held in held_sizes:
            for share in (0.01, 0.02):
                pid = f"scale-{held}-{int(share * 100)}"
                programs.save(store, pid, program("demo"))
                due = int(held * share)
                t = time.perf_counter()
                seed(ddb, pid, held, due)
                seeded = time.perf_counter() - t
                r = run(store, pid)
                assert r["settled"] == due, r
                rows.append((held, due, seeded, r))
                print(held, due, f"seeded in {seeded:.0f}s", r, flush=True)
    finally:
        ddb_local.stop()
    print()
    print(
        "| members held | members due | index items read per due member | profile reads per due member "
        "| Query calls | run seconds | ms per due member |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for held, due, _, r in rows:
        print(
            f"| {held:,} | {due:,} | {r['index_items'] / due:.2f} | {r['profile_reads'] / due:.2f} "
            f"| {r['query_calls']:.0f} | {r['seconds']:.1f} | {r['seconds'] * 1000 / due:.1f} |"
        )


if __name__ == "__main__":
    main()
