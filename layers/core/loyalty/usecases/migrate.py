"""One-off migration of the DUE index from its per-day layout (gsi1pk DUE#{pid}#{kind}#{day}#{shard})
to the "due on or before" layout (store.due_keys). Run once after deploying the new layout; a run
repeated, or resumed from its cursor, finds only what is still to move, and an item a member write
moved meanwhile is left to that write. Until it has run, members due under the old keys are not
lost: they are settled, overdue, by the first scheduled run after it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any

from .. import clock
from ..errors import NotFound
from ..store import Store
from . import programs

PAGE = 500


def run(store: Store, time_left: Callable[[], float], cursor: dict[str, Any] | None = None) -> dict[str, Any]:
    """Rekey old DUE items page by page. Returns the counts and, when time ran short, the cursor to
    invoke again with (`done` false)."""
    stats: Counter[str] = Counter()
    while True:
        items, cursor = store.old_due_items(PAGE, cursor)
        for item in items:
            try:
                zone = programs.load(store, item["program_id"]).zone
            except NotFound:
                stats["without_program"] += 1
                continue
            starts = clock.day_start(date.fromisoformat(str(item["day"])[:10]), zone)
            stats["migrated" if store.rekey_due(item, starts) else "moved_meanwhile"] += 1
        stats["scanned_pages"] += 1
        if cursor is None:
            return {**stats, "done": True}
        if time_left() < 30:
            return {**stats, "done": False, "cursor": cursor}
