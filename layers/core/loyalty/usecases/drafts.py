"""Program drafts: saved and checked like a program but not live, published through the program's own
write (programs.put_version), and restores of an old version."""

from __future__ import annotations

from typing import Any

from .. import caller, clock
from ..errors import Conflict, NotFound
from ..schemas import DraftView, ProgramSaved
from ..store import Store, TooLarge
from . import programs
from .pipeline import Attempt, retry


def put(store: Store, program_id: str, draft_id: str, doc: Any) -> DraftView:
    """Validate exactly as a program PUT (every problem at once, 422) and save; nothing goes live."""
    doc = programs.as_sent(program_id, doc)
    programs.validate(doc)
    live = programs.live_version(store, program_id)
    try:
        item = store.put_draft(program_id, draft_id, doc, live, clock.iso(clock.now()), caller.current())
    except TooLarge as big:
        raise programs._too_large(doc, big.size) from None
    return _view(program_id, draft_id, item)


def get(store: Store, program_id: str, draft_id: str) -> DraftView:
    return _view(program_id, draft_id, _draft(store, program_id, draft_id))


def publish(store: Store, program_id: str, draft_id: str, force: bool) -> ProgramSaved:
    """The draft made the next live version. 409 conflict when the live version is neither the draft's
    base nor the one its own last publish made (someone else moved it), unless `force`. A publish of a
    revision already published answers that version again (read afresh at each attempt, so a lost race
    with a concurrent publish of the same draft answers the winner's version)."""
    actor = caller.current()

    def attempt(_: Attempt) -> ProgramSaved:
        draft = _draft(store, program_id, draft_id)
        doc, revision = draft["doc"], draft["revision"]
        if draft.get("published_revision") == revision:
            return ProgramSaved.model_validate({"program_id": program_id, "version": draft["published_version"]})
        live = programs.live_version(store, program_id)
        if not force and live not in (draft["base_version"], draft.get("published_version")):
            moved = f"the live version is {live}; the draft {draft_id!r} was based on {draft['base_version']}"
            detail = {"field": "base_version", "message": moved, "live_version": live}
            raise Conflict(f"{moved}: publish with force to replace it", [detail])
        meta = {"saved_by": draft.get("saved_by"), "published_by": actor, "draft_id": draft_id}
        program = programs.validate(doc)  # valid when saved; checked again against today's rules
        return programs.put_version(store, program_id, doc, program, live + 1, meta, (draft_id, revision))

    return retry(attempt, programs.contended())


def restore(store: Store, program_id: str, number: int) -> ProgramSaved:
    """A new live version whose document is version `number`'s (404 for an unknown program or version)."""
    doc = programs.version(store, program_id, number).document
    program = programs.validate(doc)
    actor = caller.current()

    def attempt(_: Attempt) -> ProgramSaved:
        meta = {"saved_by": actor, "published_by": actor, "restored_from": number}
        return programs.put_version(store, program_id, doc, program, programs.live_version(store, program_id) + 1, meta)

    return retry(attempt, programs.contended())


def _draft(store: Store, program_id: str, draft_id: str) -> dict[str, Any]:
    found = store.get_draft(program_id, draft_id)
    if found is None:
        unknown = [{"field": "draft_id", "message": "unknown draft"}]
        raise NotFound(f"program {program_id!r} has no draft {draft_id!r}", unknown)
    return found


def _view(program_id: str, draft_id: str, item: dict[str, Any]) -> DraftView:
    return DraftView.model_validate(
        {**item, "program_id": program_id, "draft_id": draft_id, "document": item["doc"], "problems": []}
    )
