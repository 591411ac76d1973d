"""Scheduled points work: expire buckets whose date has passed, announce buckets about to expire.

A run reads only members that are due (the sparse DUE index, day by day, shard by shard), never the
whole table. Each member is settled by the same version-guarded write as any other, so a run
repeated for the same time finds nothing left to do and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from .. import clock
from ..member import Notice
from ..program import Program
from ..rules import due
from ..rules.posting import Change
from ..store import DUE_SHARDS, MemberWrite, Stale, Store
from . import programs
from .writes import ATTEMPTS, backoff

LOOKBACK_DAYS = 7  # a run also picks up what a missed run left on the days before
PAGE = 100

Settle = Callable[[Change], None]


def _unchanged(change: Change) -> bool:
    planned = change.profile.due_days
    return not (change.entries or change.notices) and all(planned.get(k) == v for k, v in change.due().items())


def settle(store: Store, program: Program, program_id: str, member_id: str, at: datetime, apply: Settle) -> bool:
    """Apply `apply` to the member as of `at`; True when something was written."""
    for attempt in range(ATTEMPTS):
        profile = store.get_member(program_id, member_id)
        if profile is None:
            return False
        change = Change.start(program, profile, at)  # expires what is due, whatever the kind
        apply(change)
        if _unchanged(change):
            return False
        try:
            store.commit(MemberWrite(change=change, expected_version=profile.version), program_id)
            return True
        except Stale:
            backoff(attempt)
    return False  # contended: the member stays due and the next run settles it


def _nothing(change: Change) -> None:
    """Expiry needs no more than Change.start does."""


def _remind(change: Change) -> None:
    p = change.profile
    first = due.earliest(p.buckets)
    soon = due.expiring_within(p.buckets, change.today)
    if first is None or first.isoformat() == p.reminded or first.isoformat() not in soon:
        return
    day = first.isoformat()
    change.notices.append(
        Notice(
            notice_id=f"points_expiring.{day}", kind="points_expiring", at=change.at, points=soon[day], expires_on=day
        )
    )
    p.reminded = day


KINDS: dict[str, Settle] = {"expire": _nothing, "remind": _remind}


def points(store: Store, at: datetime) -> dict[str, int]:
    """The points sweep for the run time `at`: every program, each kind, days due up to today."""
    stats: Counter[str] = Counter()
    for program_id in store.program_ids():
        program = programs.load(store, program_id)
        today = clock.local_date(at, program.zone)
        days = [(today - timedelta(days=n)).isoformat() for n in range(LOOKBACK_DAYS, -1, -1)]
        for kind, apply in KINDS.items():
            for day in days:
                for shard in range(DUE_SHARDS):
                    start = None
                    while True:
                        members, start = store.due_members(program_id, kind, day, shard, PAGE, start)
                        stats["members_read"] += len(members)
                        for member_id in members:
                            stats[kind] += settle(store, program, program_id, member_id, at, apply)
                        if start is None:
                            break
    return dict(stats)
