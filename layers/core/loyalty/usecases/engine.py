"""The scheduled engine: a run's time becomes (program, kind, day, shard) work items; a worker reads one
item's shard of the sparse DUE index page by page and settles each due member.

Planning costs one registry Query per run; working costs one index Query per page plus one read and one
transaction per due member, so a run costs what is due, not what is held. Every step is idempotent:
a settled member is no longer due, so a re-delivered or re-run item finds nothing left to do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .. import clock
from ..model import Model
from ..store import DUE_SHARDS, Store
from . import programs, sweeps

LOOKBACK_DAYS = 3  # a run also plans the days before, so a missed run is caught up by the next
PAGE = 100


class WorkItem(Model):
    program_id: str
    kind: str
    day: str  # YYYY-MM-DD, the program-local day members are due
    shard: int
    run_at: datetime
    cursor: dict[str, Any] | None = None  # where a worker that ran short of time stopped


def plan(store: Store, at: datetime, kinds: list[str]) -> list[WorkItem]:
    items = []
    for program_id in store.program_ids():
        today = clock.local_date(at, programs.load(store, program_id).zone)
        for kind in kinds:
            for back in range(LOOKBACK_DAYS, -1, -1):
                day = (today - timedelta(days=back)).isoformat()
                items += [
                    WorkItem(program_id=program_id, kind=kind, day=day, shard=s, run_at=at) for s in range(DUE_SHARDS)
                ]
    return items


def work(store: Store, item: WorkItem, time_left: Callable[[], float]) -> tuple[dict[str, int], WorkItem | None]:
    """Settle the item's due members page by page. When time runs short, return the item again with
    its cursor, for the caller to re-queue; otherwise None."""
    program = programs.load(store, item.program_id)
    stats: Counter[str] = Counter()
    cursor = item.cursor
    while True:
        members, cursor = store.due_members(item.program_id, item.kind, item.day, item.shard, PAGE, cursor)
        stats["members_read"] += len(members)
        for member_id in members:
            stats["members_settled"] += sweeps.settle(store, program, item.program_id, member_id, item.run_at)
        if cursor is None:
            return dict(stats), None
        if time_left() < 30:
            return dict(stats), item.model_copy(update={"cursor": cursor})
