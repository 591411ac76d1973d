"""Program health: counting committed changes from the stream (exactly once per record), and the
figures of a day range from those counters (a few Queries, whatever the number of members)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from .. import clock
from ..errors import NotFound, Unavailable, ValidationFailed
from ..rules import campaign_report, health
from ..schemas import CampaignFigures, CampaignReport, HealthFigures, HealthSeries
from ..store import Store, decode_change
from . import programs
from .pipeline import Attempt, retry

CHUNK = 40  # records per transaction at most
TRANSACTION_ITEMS = 100  # a chunk's markers plus the counter items it touches (a campaign's: two each)
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
        except NotFound:
            continue  # a program removed since: nothing to keep figures for
        one: health.Deltas = {}
        health.deltas(change, program, change.committed or clock.now(), one)
        if one:
            pending.append((change.event_id, one))
    expires = int(time.time()) + SEEN_DAYS * 86400
    return sum(_count_chunk(store, chunk, expires) for chunk in _chunks(pending))


def _chunks(pending: list[tuple[str, health.Deltas]]) -> list[list[tuple[str, health.Deltas]]]:
    """The records in order, cut so that each chunk's markers and the counter items it touches fit
    one transaction."""
    chunks: list[list[tuple[str, health.Deltas]]] = [[]]
    touched: set[tuple[str, health.Period]] = set()
    for record in pending:
        more = touched | set(record[1])
        if chunks[-1] and (len(chunks[-1]) == CHUNK or len(chunks[-1]) + 1 + len(more) > TRANSACTION_ITEMS):
            chunks.append([])
            more = set(record[1])
        chunks[-1].append(record)
        touched = more
    return [c for c in chunks if c]


def _count_chunk(store: Store, todo: list[tuple[str, health.Deltas]], expires: int) -> int:
    """One transaction adds the chunk's counters and marks its records counted; records found counted
    already (a redelivery) are left out and the rest tried again."""

    def attempt(_: Attempt) -> int:
        nonlocal todo
        while todo:
            merged: health.Deltas = {}
            for _, one in todo:
                for key, counters in one.items():
                    merged.setdefault(key, Counter()).update(counters)
            already = store.add_stats(merged, [event_id for event_id, _ in todo], expires)
            if not already:
                return len(todo)
            todo = [(event_id, one) for event_id, one in todo if event_id not in already]
        return 0

    return retry(attempt, Unavailable("health counters contended; the batch will be retried"))


def campaign(store: Store, program_id: str, campaign_id: str) -> CampaignFigures:
    """A campaign's figures, counted from the stream like the program's (so a moment behind the writes),
    and its budgets' balance read where they are taken (exact)."""
    program = programs.load(store, program_id)
    found = next((c for c in program.campaigns if c.id == campaign_id), None)
    if found is None:
        raise NotFound(f"campaign {campaign_id!r} not found", [{"field": "campaign_id", "message": "unknown campaign"}])
    counters, taken = store.campaign_figures(program_id, campaign_id, campaign_report.budget_sites(found))
    return CampaignFigures.model_validate(
        {
            "program_id": program_id,
            "campaign_id": campaign_id,
            **campaign_report.figures(program, counters),
            "budget_left": campaign_report.budget_left(found, taken),
        }
    )


def campaigns_report(
    store: Store, program_id: str, start: date | None, end: date | None, now: datetime
) -> CampaignReport:
    """Every campaign of the program, in its order, over a range of program-local days: one Query for
    every campaign's days of the range, one BatchGetItem for the budgets (none without budgets)."""
    program = programs.load(store, program_id)
    start, end = day_range(start, end, clock.local_date(now, program.zone))
    by_campaign = store.campaign_days(program_id, start.isoformat(), end.isoformat())
    sites = [site for c in program.campaigns for site in campaign_report.budget_sites(c)]
    taken = store.budgets_taken(program_id, sites) if sites else {}
    rows = [
        campaign_report.row(program, c, by_campaign.get(c.id, {}), campaign_report.budget_left(c, taken), now)
        for c in program.campaigns
    ]
    return CampaignReport.model_validate(
        {"program_id": program_id, "from": start.isoformat(), "to": end.isoformat(), "campaigns": rows}
    )


def day_range(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end:
        raise ValidationFailed.field("from", "must not be after `to`")
    if (end - start).days >= MAX_DAYS:
        raise ValidationFailed.field("from", f"a range covers at most {MAX_DAYS} days")
    return start, end


def figures(store: Store, program_id: str, start: date | None, end: date | None, now: datetime) -> HealthFigures:
    program = programs.load(store, program_id)
    start, end = day_range(start, end, clock.local_date(now, program.zone))
    months = health.month_keys(start, end)
    days = store.stats(program_id, ("day", start.isoformat()), ("day", end.isoformat()))
    monthly = store.stats(program_id, ("month", months[0]), ("month", months[-1]))
    total = next(iter(store.stats(program_id, health.TOTAL, health.TOTAL)), {})
    return HealthFigures.model_validate(
        {
            "program_id": program_id,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "months": months,
            **health.figures(program, days, monthly, total),
            **health.guest_figures(days, start),
        }
    )


def series(store: Store, program_id: str, start: date | None, end: date | None, now: datetime) -> HealthSeries:
    """Per day: the day's counters, and members and points liability as of its end (worked back from
    the running totals through the days up to today). 2 Queries (the days since `from`, the totals)."""
    program = programs.load(store, program_id)
    today = clock.local_date(now, program.zone)
    start, end = day_range(start, end, today)
    by_day = store.day_stats(program_id, start.isoformat(), max(end, today).isoformat())
    total = next(iter(store.stats(program_id, health.TOTAL, health.TOTAL)), {})
    return HealthSeries.model_validate(
        {
            "program_id": program_id,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "days": health.series(by_day, total, start, end),
        }
    )
