"""What a scheduled kind does to one due member (scheduler.py finds the members).

Each member is settled by the same version-guarded write as any other, so a run repeated for the same
time finds nothing left to do and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..errors import Contention
from ..member import Notice, Profile
from ..program import Program
from ..rules import benefits, cards, due, lifecycle, rfm, tiers
from ..rules.posting import Change
from ..store import MemberWrite, Store, TooLarge
from .pipeline import Attempt, commit, retry

Settle = Callable[[Change], None]


def _unchanged(change: Change, before: Profile) -> bool:
    planned = change.profile.due_days
    if (
        change.entries
        or change.notices
        or change.coupons
        or any(planned.get(k) != v for k, v in due.days(change).items())
    ):
        return False
    return change.profile.model_dump(exclude={"version"}) == before.model_dump(exclude={"version"})


def settle(store: Store, program: Program, program_id: str, member_id: str, at: datetime) -> bool:
    """Bring the member up to date as of `at` for every scheduled kind at once, whichever index found
    it: settling one kind can make another due (an expiry makes the next bucket's reminder due), and a
    run repeated for the same time must find nothing left. True when something was written.

    All kinds at once may be more than one transaction holds (a member overdue for everything, with
    big grants): then each kind is settled in a transaction of its own, in the same order. A kind
    that alone does not fit raises TooLarge once the others are written (the member stays due for it)."""
    try:
        return _settle(store, program, program_id, member_id, at, list(KINDS.values()))
    except TooLarge:
        wrote, too_large = False, None
        for apply in KINDS.values():
            try:
                wrote = _settle(store, program, program_id, member_id, at, [apply]) or wrote
            except TooLarge as big:
                too_large = big
        if too_large is not None:
            raise too_large from None
        return wrote


def _settle(store: Store, program: Program, program_id: str, member_id: str, at: datetime, kinds: list[Settle]) -> bool:
    def attempt(state: Attempt) -> bool:
        profile = store.get_member(program_id, member_id)
        if profile is None or profile.blocked is not None:
            return False  # blocked: found in an index read before its block removed its DUE items
        change = Change.start(program, profile, at, state.exhausted)  # expires what is due
        for apply in kinds:
            first = len(change.entries)
            apply(change)
            for entry in change.entries[first:]:
                entry.reason = entry.reason or KIND_OF[apply]  # the ledger says which sweep wrote it
        if _unchanged(change, profile):
            return False
        commit(store, MemberWrite(change=change, expected_version=profile.version), program_id)
        return True

    try:
        return retry(attempt, Contention("member contended"))
    except Contention:
        return False  # the member stays due and the next run settles it


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


# Each kind has its own DUE index entries; settling applies them all (in this order).
KINDS: dict[str, Settle] = {
    "expire": _nothing,
    "remind": _remind,
    "churn": lifecycle.churn_step,
    "tier_review": tiers.review,
    "rfm": rfm.refresh,  # before benefits: segment benefits follow the segment of the day
    "benefits": benefits.issue,  # after the review: a month's benefits follow the tier it ends with
    "cards": cards.settle,  # paid-card cycles, the expiring-soon notice, the end of a card
}
KIND_OF: dict[Settle, str] = {apply: kind for kind, apply in KINDS.items()}
