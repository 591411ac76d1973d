"""A grant to an audience at scale (`make bench-grants`): BENCH_GRANT_MEMBERS (default 10,000) members
of tier star, seeded into DynamoDB Local by the import use case, then one grant (points and a coupon)
to `tier: star` run page by page as the worker runs it (usecases/grants.page, each message's following
page taken in turn, as the work queue would deliver them).

Reports members granted per second, DynamoDB round trips and capacity units per member
(ReturnConsumedCapacity=TOTAL on every call), and the audience index items read per member."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from local.dynamodb import DynamoDBLocal, client, create_tables_from_template  # noqa: E402
from local.template import load_template  # noqa: E402
from loyalty.schemas import IMPORT_BATCH_LINES, GrantBody  # noqa: E402
from loyalty.store import Store  # noqa: E402
from loyalty.usecases import grants, imports, programs  # noqa: E402
from tests.support import program  # noqa: E402

from .imports import Meter  # noqa: E402

NOW = datetime.now(UTC)
GIFT = {"audience": {"tier": "star"}, "points": 50, "coupons": ["welcome-10"], "reason": "bench"}


def seed(store: Store, pid: str, count: int) -> None:
    lines = [
        {"member_id": f"m-{i:07d}", "enrolled_at": (NOW - timedelta(days=30)).isoformat(), "tier_id": "star"}
        for i in range(count)
    ]
    batches = [lines[at : at + IMPORT_BATCH_LINES] for at in range(0, count, IMPORT_BATCH_LINES)]

    def one(n: int) -> None:
        ran, result = imports.batch(store, pid, "seed", n + 1, batches[n], NOW)
        assert ran and result.imported == len(batches[n]), result.problems[:3]

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(one, range(len(batches))))


class IndexReads:
    """Items the audience index's Queries returned."""

    def __init__(self, ddb: Any) -> None:
        self.items = 0
        ddb.meta.events.register("after-call.dynamodb.Query", self._count)

    def _count(self, parsed: dict[str, Any], **_: Any) -> None:
        self.items += len(parsed.get("Items", []))


def run_grant(store: Store, pid: str) -> tuple[float, int]:
    """(seconds, pages): the grant from its PUT's use case to its last page."""
    t = time.perf_counter()
    _, _, waiting = grants.start(store, pid, "bench", GrantBody.model_validate(GIFT), NOW)
    pages = 0
    while waiting:
        waiting += grants.page(store, waiting.pop(0), NOW)[1]
        pages += 1
    return time.perf_counter() - t, pages


def main() -> None:
    count = int(os.environ.get("BENCH_GRANT_MEMBERS", "10000"))
    ddb_local = DynamoDBLocal(port=None).start()
    try:
        os.environ.setdefault("PROGRAM_CACHE_TTL_SECONDS", "300")
        ddb = client(ddb_local.endpoint)
        create_tables_from_template(ddb, load_template())
        store = Store("LoyaltyTable", ddb)
        programs.save(store, "bench", program("demo"))
        t = time.perf_counter()
        seed(store, "bench", count)
        print(f"seeded {count} star members in {time.perf_counter() - t:.0f}s", flush=True)
        meter, index = Meter(ddb), IndexReads(ddb)
        seconds, pages = run_grant(store, "bench")
        report = grants.report(store, "bench", "bench")
    finally:
        ddb_local.stop()
    assert report.status == "done" and report.members_granted == count, report
    per = {name: round(n / count, 3) for name, n in sorted(meter.calls.items())}
    print(
        f"granted {count} members in {seconds:.0f}s: {count / seconds:.0f} members/s "
        f"({pages} pages of {grants.PAGE}, {grants.PARALLEL} members of a page at once)"
    )
    print(f"round trips per member: {per}")
    print(f"capacity units per member (DynamoDB Local): {meter.units / count:.2f}")
    print(f"audience index items read per member: {index.items / count:.4f}")


if __name__ == "__main__":
    main()
