"""Audiences: the members of a program with a tier, tag, segment or stage (the audience index, gsi1),
and the one-off migration that indexes members enrolled before it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .. import clock
from ..errors import Contention, NotFound
from ..member import Profile
from ..rules import audience
from ..rules.posting import Change
from ..schemas import MemberList
from ..store import MemberWrite, Store
from . import members, pipeline, programs

PAGE = 500  # profiles a migration Scan page reads


def listed(
    store: Store, program_id: str, attr: str, value: str, limit: int, cursor: str | None, now: datetime
) -> MemberList:
    """One page: one Query of the index, one BatchGetItem of its profiles (strongly consistent). A
    member whose profile no longer has the attribute (the index is read eventually consistent in AWS,
    so it may lag a write by a moment) is left out rather than shown with another tier."""
    program = programs.load(store, program_id)
    ids, next_cursor = store.audience_page(program_id, attr, value, limit, cursor)
    wanted = audience.entry(attr, value)
    views = [
        members.view(program, profile, now)
        for profile in store.get_members(program_id, ids)
        if wanted in audience.entries(profile)
    ]
    return MemberList(members=views, next_cursor=next_cursor)


def index(store: Store, program_id: str, member_id: str, now: datetime) -> bool:
    """Give a member written before the index its entries: an ordinary member write (the pipeline
    puts what rules/audience.moves finds). False when there was nothing to do."""
    program = programs.load(store, program_id)

    def attempt(state: pipeline.Attempt) -> bool:
        profile: Profile | None = store.get_member(program_id, member_id)
        if profile is None or profile.audiences is not None:
            return False  # erased, or indexed by a write meanwhile
        change = Change.start(program, profile, now, state.exhausted)
        pipeline.commit(store, MemberWrite(change, profile.version, what="audience_index"), program_id)
        return True

    return pipeline.retry(attempt, Contention("too many concurrent writes to this member; run the migration again"))


def migrate(store: Store, time_left: Callable[[], float], cursor: dict[str, Any] | None = None) -> dict[str, Any]:
    """Index every member enrolled before the audience index, page by page (as usecases/migrate.py
    moves the DUE index). A repeat, or a run resumed from its cursor, finds only what is left."""
    stats: Counter[str] = Counter()
    now = clock.now()
    while True:
        found, cursor = store.unindexed_members(PAGE, cursor)
        for program_id, member_id in found:
            try:
                stats["indexed" if index(store, program_id, member_id, now) else "indexed_meanwhile"] += 1
            except NotFound:
                stats["without_program"] += 1
        stats["scanned_pages"] += 1
        if cursor is None:
            return {**stats, "done": True}
        if time_left() < 30:
            return {**stats, "done": False, "cursor": cursor}
