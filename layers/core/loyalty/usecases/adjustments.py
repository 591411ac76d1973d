"""Adjustments: POST .../members/{member_id}/adjustments, exactly once by adjustment_id."""

from __future__ import annotations

from datetime import datetime

from .. import caller
from ..member import Profile
from ..rules import adjustments
from ..rules.posting import Change
from ..schemas import Adjust, AdjustmentResult
from ..store import MemberWrite, Store
from . import programs
from .pipeline import Attempt, Built, Outcome, RefKey, once


def adjust(store: Store, program_id: str, member_id: str, body: Adjust, now: datetime) -> Outcome[AdjustmentResult]:
    """1 GetItem + 1 TransactWriteItems (profile, entry, reference, audit item)."""
    program = programs.load(store, program_id)
    # The request's principal, as pipeline.commit's audit item names it: one actor in both places.
    actor = caller.current()

    def build(profile: Profile, attempt: Attempt) -> Built[AdjustmentResult]:
        change = Change.start(program, profile, now, attempt.exhausted)
        adjustments.adjust(change, body.points, f"adjustment:{body.adjustment_id}", body.reason, actor, body.actor)
        result = AdjustmentResult.model_validate(
            {
                "adjustment_id": body.adjustment_id,
                "member_id": member_id,
                "points": body.points,
                "balance": change.balance,
                "entry": change.entries[-1].model_dump(),
            }
        )
        return Built(MemberWrite(change=change, expected_version=profile.version), result)

    return once(store, program_id, RefKey("adjustment", body.adjustment_id, member_id), body, AdjustmentResult, build)
