"""Bulk import at scale (`make bench-import`): BENCH_IMPORT_MEMBERS (default 100,000) members of an
existing base imported into DynamoDB Local in batches of 500, through the same use case the batch
route and the file worker run (usecases/imports.batch), BENCH_IMPORT_BATCHES batches at once.

Reports members/s, DynamoDB round trips and capacity units per member (ReturnConsumedCapacity=TOTAL on
every call), and, in the same run, a bare loader for comparison: the same profiles put with
BatchWriteItem and nothing else (no ledger, no guard, no due index, not exactly-once)."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from local.dynamodb import DynamoDBLocal, client, create_tables_from_template  # noqa: E402
from local.template import load_template  # noqa: E402
from loyalty.schemas import IMPORT_BATCH_LINES  # noqa: E402
from loyalty.store import Store  # noqa: E402
from loyalty.store.codec import dump  # noqa: E402
from loyalty.usecases import imports, programs  # noqa: E402
from tests.support import program  # noqa: E402

NOW = datetime.now(UTC)


class Meter:
    """Round trips and the capacity DynamoDB reports, across threads."""

    def __init__(self, ddb: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.units = 0.0
        self.lock = threading.Lock()
        ddb.meta.events.register("provide-client-params.dynamodb", self._ask)
        ddb.meta.events.register("after-call.dynamodb", self._count)

    def _ask(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "TOTAL"

    def _count(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        used = parsed.get("ConsumedCapacity") or []
        units = sum(float(i.get("CapacityUnits", 0)) for i in (used if isinstance(used, list) else [used]))
        with self.lock:
            self.calls[model.name] += 1
            self.units += units

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.units = 0.0


def line(i: int) -> dict[str, Any]:
    """A plausible member: two buckets (one expiring within the month), a tier for one in five, tags."""
    soon = (NOW + timedelta(days=5 + i % 20)).date()
    later = date(NOW.year + 1, 12, 31)
    return {
        "member_id": f"crm-{i:07d}",
        "enrolled_at": (NOW - timedelta(days=30 + i % 1500)).isoformat(),
        "birthday": f"19{70 + i % 30}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "channel": "store",
        "tier_id": "gold" if i % 5 == 0 else "star",
        "points": [
            {"points": 100 + i % 900, "expires_on": later.isoformat()},
            {"points": 50, "expires_on": soon.isoformat()},
        ],
        "lifetime_earned": 5000 + i % 5000,
        "lifetime_spend_minor": 100000 + i,
        "orders_total": 1 + i % 40,
        "tags": ["migrated"],
    }


def run_import(store: Store, pid: str, lines: list[dict[str, Any]], parallel: int) -> float:
    batches = [lines[at : at + IMPORT_BATCH_LINES] for at in range(0, len(lines), IMPORT_BATCH_LINES)]

    def one(n: int) -> int:
        ran, result = imports.batch(store, pid, "bench", n + 1, batches[n], NOW)
        assert ran and result.imported == len(batches[n]), result.problems[:3]
        return result.imported

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        assert sum(pool.map(one, range(len(batches)))) == len(lines)
    return time.perf_counter() - t


def run_bare(ddb: Any, pid: str, lines: list[dict[str, Any]], parallel: int) -> float:
    items = [
        {"pk": f"MEMBER#{pid}#{m['member_id']}", "sk": "PROFILE", "type": "member", "program_id": pid, **m}
        for m in lines
    ]

    def put(at: int) -> None:
        request = {"LoyaltyTable": [{"PutRequest": {"Item": dump(i)}} for i in items[at : at + 25]]}
        while request:
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=parallel * imports.PARALLEL) as pool:
        list(pool.map(put, range(0, len(items), 25)))
    return time.perf_counter() - t


def main() -> None:
    count = int(os.environ.get("BENCH_IMPORT_MEMBERS", "100000"))
    parallel = int(os.environ.get("BENCH_IMPORT_BATCHES", "2"))
    ddb_local = DynamoDBLocal(port=None).start()
    try:
        os.environ.setdefault("PROGRAM_CACHE_TTL_SECONDS", "300")
        ddb = client(ddb_local.endpoint)
        create_tables_from_template(ddb, load_template())
        store = Store("LoyaltyTable", ddb)
        for pid in ("bench", "bare"):
            programs.save(store, pid, program("demo"))
        lines = [line(i) for i in range(count)]
        meter = Meter(ddb)
        seconds = run_import(store, "bench", lines, parallel)
        calls, units = dict(meter.calls), meter.units
        meter.reset()
        bare = run_bare(ddb, "bare", lines, parallel)
        bare_units = meter.units
    finally:
        ddb_local.stop()
    per = {name: round(n / count, 3) for name, n in sorted(calls.items())}
    print(
        f"imported {count} members in {seconds:.0f}s: {count / seconds:.0f} members/s "
        f"({parallel} batches of {IMPORT_BATCH_LINES} at once, {imports.PARALLEL} members per batch at once)"
    )
    print(f"round trips per member: {per}")
    print(f"capacity units per member (DynamoDB Local): {units / count:.2f}")
    print(
        f"bare BatchWriteItem of the profiles alone: {count / bare:.0f} members/s, "
        f"{bare_units / count:.2f} CU/member; ratio import/bare time {seconds / bare:.1f}x"
    )


if __name__ == "__main__":
    main()
