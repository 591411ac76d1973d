"""Blocking a member (PUT/DELETE .../members/{member_id}/block): a member write like the tags', audited.

The block keeps what the member has; every write that would earn or spend refuses it (rules/abuse.
refuse_blocked) and the block's own write removes its DUE items (rules/due.days gives a blocked member
none), so sweeps skip it at no cost per run. The unblock's write puts them back: what fell due meanwhile
runs once, at the next sweep.
"""

from __future__ import annotations

from datetime import datetime

from ..errors import Contention
from ..rules import abuse
from ..rules.posting import Change
from ..schemas import MemberView
from ..store import MemberWrite, Store
from . import pipeline, programs
from .members import view
from .pipeline import Attempt, commit, retry


def set_blocked(store: Store, program_id: str, member_id: str, reason: str | None, now: datetime) -> MemberView:
    """Block (`reason` given) or unblock (None) the member; the member view after it. Idempotent by
    nature: blocking a blocked member (unblocking one that is not) writes nothing and answers the view
    (the first block's time and reason stay). 1 read + 1 version-guarded transaction."""
    program = programs.load(store, program_id)

    def attempt(state: Attempt) -> MemberView:
        profile = pipeline.existing(store, program_id, member_id)
        change = Change.start(program, profile, now, state.exhausted)
        moved = abuse.block(change, reason) if reason is not None else abuse.unblock(change)
        if not moved:
            return view(program, profile, now)
        what = "block" if reason is not None else "unblock"
        commit(store, MemberWrite(change=change, expected_version=profile.version, what=what), program_id)
        return view(program, change.profile, now)

    return retry(attempt, Contention("too many concurrent writes to this member; retry the request"))
