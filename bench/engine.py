"""Scale proof of the scheduled engine (`python -m bench.engine`): members seeded straight into
DynamoDB Local, a share of them due for the churn sweep; one planned run worked in-process.
Counts what the run reads, per due member, and how its time follows the members due, not held.

Two cases: one program holding 10k or 100k members (1% or 2% due, some of them overdue by weeks),
and 10,000 programs of which 10 have members due, against the layout before the global due index
(one index partition per program, kind, day and shard), whose cost grew with the programs held."""

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
from loyalty import clock  # noqa: E402
from loyalty.member import Profile  # noqa: E402
from loyalty.store import DUE_SHARDS, Store, due_keys, due_shard  # noqa: E402
from loyalty.store.codec import dump  # noqa: E402
from loyalty.usecases import programs, scheduler  # noqa: E402
from tests.support import program  # noqa: E402

RUN = datetime(2026, 6, 15, 4, tzinfo=UTC)
OLD_DAYS = 4  # the old planner: the run's day and the 3 before it, per program and kind
OLD_SAMPLE = int(os.environ.get("BENCH_OLD_SAMPLE", "300"))  # programs the old layout is timed on


def _write(ddb: Any, items: list[dict[str, Any]]) -> None:
    def put(start: int) -> None:
        request = {"LoyaltyTable": [{"PutRequest": {"Item": dump(i)}} for i in items[start : start + 25]]}
        while request:
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(put, range(0, len(items), 25)))


def members(pid: str, held: int, due: int, old_layout: bool = False) -> list[dict[str, Any]]:
    """`held` members, the first `due` of them idle long enough to be due (every tenth of those since
    weeks ago: overdue work the run must also find); the rest due months from now. With `old_layout`
    each member also carries the index item the old layout wrote (bench-only, to time its reads)."""
    busy = RUN - timedelta(days=2)
    out: list[dict[str, Any]] = []
    for i in range(held):
        member = f"m{i:07d}"
        is_due = i < due
        late = 40 if is_due and i % 10 == 0 else 0
        idle = RUN - timedelta(days=30 + late)
        due_at = RUN - timedelta(days=late) if is_due else datetime(2026, 9, 30, tzinfo=UTC)
        profile = Profile(
            program_id=pid,
            member_id=member,
            version=1,
            enrolled_at=idle - timedelta(days=5),
            lifecycle_stage="active",
            last_purchase_at=idle if is_due else busy,
            due_days={"churn": due_at.date().isoformat()},
        )
        pk = f"MEMBER#{pid}#{member}"
        out += [
            {"pk": pk, "sk": "PROFILE", "type": "member", **profile.model_dump(mode="json")},
            {
                "pk": pk,
                "sk": "DUE#churn",
                "type": "due",
                "day": due_at.date().isoformat(),
                **due_keys("churn", due_at, pid, member),
            },
        ]
        if old_layout:
            day = due_at.date().isoformat()
            out.append(
                {
                    "pk": pk,
                    "sk": "BENCH#olddue",
                    "gsi1pk": f"DUE#{pid}#churn#{day}#{due_shard(member)}",
                    "gsi1sk": member,
                }
            )
    return out


class Reads:
    """What the code under measurement asks DynamoDB, counted from botocore's own events."""

    def __init__(self, store: Store) -> None:
        self.store, self.counts = store, Counter[str]()

    def count(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query":
            self.counts["query_calls"] += 1
            self.counts["index_items"] += parsed.get("Count", 0)
        elif model.name == "GetItem":
            self.counts["profile_reads"] += 1

    def __enter__(self) -> Counter[str]:
        self.store.client.meta.events.register("after-call.dynamodb", self.count)
        return self.counts

    def __exit__(self, *_: Any) -> None:
        self.store.client.meta.events.unregister("after-call.dynamodb", self.count)


def run(store: Store) -> dict[str, float]:
    """One planned churn run, every work item worked in series (as the local runtime does)."""
    started = time.perf_counter()
    with Reads(store) as reads:
        items = scheduler.plan(RUN, ["churn"])
        settled = 0
        for item in items:
            stats, rest = scheduler.work(store, item, lambda: 900)
            settled += stats.get("members_settled", 0)
            assert rest is None
    return {"work_items": len(items), "settled": settled, "seconds": time.perf_counter() - started, **reads}


def old_find(store: Store, pids: list[str]) -> dict[str, float]:
    """The old layout's cost of finding who is due, for `pids`: its planner read each program (its
    local day), and its workers Queried each (program, kind, day, shard) partition. Settling the members
    found costs the same in both layouts, so it is left out here."""
    started = time.perf_counter()
    found = 0
    with Reads(store) as reads:
        for pid in pids:
            today = clock.local_date(RUN, store_program(store, pid).zone)
            for back in range(OLD_DAYS):
                day = (today - timedelta(days=back)).isoformat()
                for shard in range(DUE_SHARDS):
                    got = store.client.query(
                        TableName=store.table,
                        IndexName="gsi1",
                        KeyConditionExpression="gsi1pk = :pk",
                        ExpressionAttributeValues=dump({":pk": f"DUE#{pid}#churn#{day}#{shard}"}),
                    )
                    found += got["Count"]
    return {"programs": len(pids), "found": found, "seconds": time.perf_counter() - started, **reads}


def store_program(store: Store, pid: str) -> Any:
    programs._cache.pop((store.table, pid), None)  # the old planner read each program once per run
    return programs.load(store, pid)


def single_program(store: Store, ddb: Any, held_sizes: list[int]) -> list[tuple[int, int, dict[str, float]]]:
    rows = []
    for held in held_sizes:
        for share in (0.01, 0.02):
            pid = f"scale-{held}-{int(share * 100)}"
            programs.save(store, pid, program("demo"))
            due = int(held * share)
            t = time.perf_counter()
            _write(ddb, members(pid, held, due))
            seeded = time.perf_counter() - t
            r = run(store)
            assert r["settled"] == due, r
            rows.append((held, due, r))
            print(held, due, f"seeded in {seeded:.0f}s", r, flush=True)
    return rows


def many_programs(store: Store, ddb: Any, count: int, with_due: int, due_each: int) -> dict[str, Any]:
    doc = program("demo")
    pids = [f"merchant-{i:05d}" for i in range(count)]
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda pid: store.put_program(pid, doc, 1, clock.iso(RUN)), pids))
    due_pids = pids[:: count // with_due][:with_due]
    _write(ddb, [i for pid in due_pids for i in members(pid, due_each * 3, due_each, old_layout=True)])
    print(f"{count} programs seeded in {time.perf_counter() - t:.0f}s", flush=True)
    # The old layout first (it only reads), on a sample holding every program with members due.
    sample = due_pids + [p for p in pids if p not in due_pids][: max(OLD_SAMPLE - with_due, 0)]
    with Reads(store) as registry:
        start: dict[str, Any] | None = None
        while True:  # the old planner's registry listing, of all programs
            _, start = store._query("PROGRAMS", "PROGRAM#", 1000, start, newest_first=False)
            if start is None:
                break
    old = old_find(store, sample)
    overdue = with_due * len(range(0, due_each, 10))  # due 40 days ago: past the old 3-day lookback
    assert old["found"] == with_due * due_each - overdue, old
    new = run(store)
    assert new["settled"] == with_due * due_each, new
    return {
        "programs": count,
        "with_due": with_due,
        "due": with_due * due_each,
        "registry": registry,
        "old": old,
        "new": new,
    }


def main() -> None:
    held_sizes = [int(x) for x in os.environ.get("BENCH_HELD", "10000,100000").split(",")]
    count = int(os.environ.get("BENCH_PROGRAMS", "10000"))
    ddb_local = DynamoDBLocal().start()
    try:
        os.environ.setdefault("PROGRAM_CACHE_TTL_SECONDS", "300")
        ddb = client(ddb_local.endpoint)
        create_tables_from_template(ddb, load_template())
        store = Store("LoyaltyTable", ddb)
        rows = single_program(store, ddb, held_sizes)
        many = many_programs(store, ddb, count, 10, 10) if count else None  # BENCH_PROGRAMS=0: skip
    finally:
        ddb_local.stop()
    print()
    print(
        "| members held | members due | index items read per due member | profile reads per due member "
        "| Query calls | run seconds | ms per due member |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for held, due, r in rows:
        print(
            f"| {held:,} | {due:,} | {r['index_items'] / due:.2f} | {r['profile_reads'] / due:.2f} "
            f"| {r['query_calls']:.0f} | {r['seconds']:.1f} | {r['seconds'] * 1000 / due:.1f} |"
        )
    if many is None:
        return
    old, new, n, due = many["old"], many["new"], many["programs"], many["due"]
    scale = n / old["programs"]
    old_queries = many["registry"]["query_calls"] + old["query_calls"] * scale
    old_seconds = old["seconds"] * scale
    print()
    print(f"{n:,} programs, {many['with_due']} of them with {due} members due in all (churn run):")
    print(
        "| layout | due members found | index Queries | other reads before settling | seconds to find who is due "
        "| Queries per due member |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| per (program, kind, day, shard), timed on {old['programs']} programs, x{scale:g} "
        f"| {old['found']:.0f} of {due} | {old_queries:,.0f} | {old['profile_reads'] * scale:,.0f} program reads "
        f"| {old_seconds:,.0f} "
        f"| {old_queries / due:,.0f} |"
    )
    print(
        f"| per (kind, shard), by due instant: the whole run, settling included "
        f"| {new['settled']:.0f} of {due} | {new['query_calls']:.0f} | 0 | {new['seconds']:.1f} (with settling) "
        f"| {new['query_calls'] / due:.2f} |"
    )


if __name__ == "__main__":
    main()
