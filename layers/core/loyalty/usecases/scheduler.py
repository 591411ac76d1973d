"""The scheduled engine: a run's time becomes (kind, shard) work items; a worker reads one item's shard
of the sparse DUE index page by page and settles each member due at the run's time or earlier.

Planning reads nothing: a run is DUE_SHARDS work items per kind, whatever the number of programs.
Working costs one index Query per page plus one read and one transaction per due member, so a run
costs what is due, not what is held nor how many programs there are. A due day is never left behind:
the index answers "due on or before", so a member overdue by a day or by a year (a scheduler outage,
a migrated member base) is settled by the next run. Every step is idempotent: a settled member is no
longer due, so a re-delivered or re-run item finds nothing left to do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ConfigDict

from .. import Model, clock
from ..errors import NotFound
from ..store import DUE_SHARDS, Store, TooLarge
from . import programs, sweeps

PAGE = 100


class WorkItem(Model):
    # A message planned before the index was one per day carries program_id and day: it is read as
    # its kind and shard, for every program (nothing in flight at a deploy is lost).
    model_config = ConfigDict(extra="ignore")

    kind: str
    shard: int
    run_at: datetime
    cursor: dict[str, Any] | None = None  # where a worker that ran short of time stopped
    run: list[str] | None = None  # the planner's kinds: the run record its settled members count on


def plan(at: datetime, kinds: list[str]) -> list[WorkItem]:
    return [WorkItem(kind=kind, shard=s, run_at=at, run=kinds) for kind in kinds for s in range(DUE_SHARDS)]


def record(store: Store, kinds: list[str], at: datetime, planned: int) -> None:
    """The run's trace for operators (the console's scheduled work page): 1 PutItem, before its items
    are sent, so that no worker counts on the previous run's record."""
    store.record_run(kinds, clock.iso(at), clock.iso(clock.now()), planned)


def runs(store: Store) -> list[dict[str, Any]]:
    """Each planner's last run, latest first, with the members its workers have settled so far."""
    found = [
        {**{k: r[k] for k in ("kinds", "at", "ran_at", "planned")}, "members_settled": r.get("members_settled", 0)}
        for r in store.runs()
    ]
    return sorted(found, key=lambda r: str(r["ran_at"]), reverse=True)


def work(store: Store, item: WorkItem, time_left: Callable[[], float]) -> tuple[dict[str, int], WorkItem | None]:
    """Settle the item's due members page by page (and count them on the run's record). When time
    runs short, return the item again with its cursor, for the caller to re-queue; otherwise None."""
    stats, rest = _work(store, item, time_left)
    if stats.get("members_settled") and item.run is not None:
        # 1 UpdateItem, only where a member was settled; a record of a later run is left alone.
        store.count_run(item.run, clock.iso(item.run_at), stats["members_settled"])
    return stats, rest


def _work(store: Store, item: WorkItem, time_left: Callable[[], float]) -> tuple[dict[str, int], WorkItem | None]:
    stats: Counter[str] = Counter()
    cursor = item.cursor
    while True:
        found, cursor = store.due_members(item.kind, item.shard, item.run_at, PAGE, cursor)
        stats["members_read"] += len(found)
        for due in found:
            try:
                program = programs.load(store, due.program_id)
            except NotFound:
                stats["members_without_program"] += 1
                continue
            try:
                stats["members_settled"] += sweeps.settle(store, program, due.program_id, due.member_id, item.run_at)
            except TooLarge:
                # One member's kind that no transaction can hold must not stall the shard for everyone
                # after it: counted (a metric to alarm on), and the member stays due.
                stats["members_too_large"] += 1
        if cursor is None:
            return dict(stats), None
        if time_left() < 30:
            return dict(stats), item.model_copy(update={"cursor": cursor})
