"""Tier evaluation on demand (POST .../tier-evaluations): the same review the schedule runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..errors import Contention
from ..rules import tiers
from ..rules.posting import Change
from ..store import MemberWrite, Stale, Store
from . import members, programs
from .writes import ATTEMPTS, backoff, commit, spent_budgets


def evaluate(store: Store, program_id: str, member_id: str, at: datetime) -> dict[str, Any]:
    """Upgrades apply at once; a downgrade only at a due review, so asking twice counts once."""
    program = programs.load(store, program_id)
    exhausted: set[str] = set()  # upgrade budgets found spent by an earlier attempt
    for attempt in range(ATTEMPTS):
        profile = members.existing(store, program_id, member_id)
        change = Change.start(program, profile, at, exhausted)
        tiers.review(change)
        before, after = profile.tier_id, change.profile.tier_id
        try:
            commit(store, MemberWrite(change=change, expected_version=profile.version), program_id)
        except Stale as stale:
            spent = spent_budgets(stale.failed)
            exhausted |= spent
            if not spent:
                backoff(attempt)
            continue
        return {"tier": after, "tier_changed": before != after, "from": before, "to": after}
    raise Contention("too many concurrent writes to this member; retry the request")
