"""Program health: counting committed changes from the stream (exactly once per record), and the
figures of a day range from those counters (a few Queries, whatever the number of members)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from .. import clock
from ..errors import LoyaltyError, ValidationFailed
from ..rules import health
from ..store import Stale, Store, decode_change
from . import programs
from .writes import ATTEMPTS, backoff

CHUNK = 40  # records per transaction: their markers plus the counters they touch stay under 100 items
SEEN_DAYS = 3  # a record's "counted" marker outlives any redelivery (a stream keeps records 24 h)
MAX_DAYS = 366


def count(store: Store, records: list[dict[str, Any]]) -> int:
    """Fold a batch of stream records into the counters; a record delivered again is not counted again.
    Returns how many records were counted now."""
    pending = []
    for record in records:
        change = decode_change(record)
        if change is None:
            continue
        try:
            program = programs.load(store, change.program_id)
        except LoyaltyError:
            continue  # a program removed since: nothing to keep figures for
        one: health.Deltas = {}
        health.deltas(change, program, change.committed or clock.now(), one)
        if one:
            pending.append((change.event_id, one))
    expires = int(time.time()) + SEEN_DAYS * 86400
    counted = 0
    for start in range(0, len(pending), CHUNK):
        todo = pending[start : start + CHUNK]
        for attempt in range(ATTEMPTS):
            merged: health.Deltas = {}
            for _, one in todo:
                for key, counters in one.items():
                    merged.setdefault(key, Counter()).update(counters)
            try:
                already = store.add_stats(merged, [event_id for event_id, _ in todo], expires)
            except Stale:
                backoff(attempt)
                continue
            if not already:
                counted += len(todo)
                break
            todo = [(event_id, one) for event_id, one in todo if event_id not in already]
            if not todo:
                break
        else:
            raise RuntimeError("health counters contended; the batch will be retried")
    return counted


def figures(store: Store, program_id: str, start: date | None, end: date | None, now: datetime) -> dict[str, Any]:
    program = programs.load(store, program_id)
    end = end or clock.local_date(now, program.zone)
    start = start or end - timedelta(days=29)
    if start > end:
        raise ValidationFailed.field("from", "must not be after `to`")
    if (end - start).days >= MAX_DAYS:
        raise ValidationFailed.field("from", f"a range covers at most {MAX_DAYS} days")
    months = health.month_keys(start, end)
    days = store.stats(program_id, ("day", start.isoformat()), ("day", end.isoformat()))
    monthly = store.stats(program_id, ("month", months[0]), ("month", months[-1]))
    total = next(iter(store.stats(program_id, health.TOTAL, health.TOTAL)), {})
    return {
        "program_id": program_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "months": months,
        **health.figures(program, days, monthly, total),
    }
