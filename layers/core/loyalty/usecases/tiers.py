"""Tier evaluation on demand (POST .../tier-evaluations): the same review the schedule runs."""

from __future__ import annotations

from datetime import datetime

from ..errors import Contention
from ..rules import tiers
from ..rules.posting import Change
from ..schemas import TierEvaluationResult
from ..store import MemberWrite, Store
from . import programs
from .pipeline import Attempt, commit, existing, retry


def evaluate(store: Store, program_id: str, member_id: str, at: datetime) -> TierEvaluationResult:
    """Upgrades apply at once; a downgrade only at a due review, so asking twice counts once."""
    program = programs.load(store, program_id)

    def attempt(state: Attempt) -> TierEvaluationResult:
        profile = existing(store, program_id, member_id)
        change = Change.start(program, profile, at, state.exhausted)
        tiers.review(change)
        before, after = profile.tier_id, change.profile.tier_id
        commit(store, MemberWrite(change=change, expected_version=profile.version, what="tier_evaluation"), program_id)
        return TierEvaluationResult(tier=after, tier_changed=before != after, from_=before, to=after)

    return retry(attempt, Contention("too many concurrent writes to this member; retry the request"))
