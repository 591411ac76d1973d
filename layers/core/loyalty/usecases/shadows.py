"""Shadow runs: a draft evaluated beside the live program on every live event it covers, nothing given.
The run is kept on the program's CONFIG item (read with the program, no round trip of its own); a
write evaluates the draft on its own copy of the member (pure rules) and keeps both sides' figures on
its reference; the stream counter adds them to the run's counters (rules/health, rules/shadow)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from .. import clock
from ..errors import LoyaltyError, ValidationFailed
from ..program import Program
from ..rules import shadow
from ..rules.posting import Change
from ..schemas import ShadowReport, ShadowStarted
from ..store import Store, TooLarge
from . import drafts, programs

Side = tuple[Change, int]  # a side's Change of the event and the points it gave in all


def start(store: Store, program_id: str, draft_id: str, until: datetime, now: datetime) -> ShadowStarted:
    """Start (or restart, or move the end of) the program's one shadow run with the draft as it is now."""
    if until <= now:
        raise ValidationFailed.field("until", "must be in the future")
    programs.document(store, program_id)  # a live program to shadow (404 naming program_id otherwise)
    draft = drafts.get(store, program_id, draft_id)
    try:
        store.start_shadow(program_id, draft_id, clock.iso(until), draft.document)
    except TooLarge:
        message = "the program and this draft together are too large for the program's item; shorten the draft"
        raise ValidationFailed.field("draft_id", message) from None
    programs._cache.pop((store.table, program_id), None)
    return ShadowStarted.model_validate(
        {"program_id": program_id, "draft_id": draft_id, "until": until, "revision": draft.revision}
    )


def report(store: Store, program_id: str, draft_id: str) -> ShadowReport:
    """The run's comparison so far: one Query of its counters (after the draft's GetItem, for its 404)."""
    drafts.get(store, program_id, draft_id)
    rows = store.shadow_stats(program_id, draft_id)
    return ShadowReport.model_validate({"program_id": program_id, "draft_id": draft_id, **shadow.report(rows)})


def observe(run: tuple[str, Program], live: Side, evaluate: Callable[[Program], Side]) -> dict[str, Any]:
    """The event's `shadow` (its reference keeps it): the live side as written, the draft's evaluated on
    a copy. A draft whose rules refuse the event gives nothing on it."""
    draft_id, draft = run
    try:
        draft_side = shadow.given(*evaluate(draft))
    except LoyaltyError:
        draft_side = {shadow.TOTAL: shadow.Counter()}
    return shadow.record(live[0].profile, draft_id, shadow.given(*live), draft_side)
