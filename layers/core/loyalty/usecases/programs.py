"""Program documents: validate, version, and serve them from a short per-container cache."""

from __future__ import annotations

import os
import re
import time
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from .. import caller, clock
from ..errors import Contention, NotFound, ProgramInvalid, ValidationFailed
from ..program import (
    SENT,
    Campaign,
    Counter,
    Doc,
    PaidCardPlan,
    Program,
    Reward,
    duplicate_ids,
    error_detail,
    problems,
)
from ..rules import pricing
from ..schemas import ProgramSaved, ProgramVersion, ProgramVersions, RoiTable
from ..store import MAX_PROGRAM_BYTES, Store, TooLarge, document_text
from ..store.programs import SHADOWED
from .pipeline import Attempt, retry

_cache: dict[tuple[str, str], tuple[float, Program, str | None]] = {}  # with the program's member key


def ttl() -> float:
    return float(os.environ.get("PROGRAM_CACHE_TTL_SECONDS", "10"))


def validate(doc: Any) -> Program:
    """The program, or ProgramInvalid listing every problem found: pydantic's, the cross-field ones
    and the expressions', in one answer (a duplicate id is not held back behind another's typo)."""
    # Imported here: only a PUT checks expressions, so the checker stays off every other cold start.
    from ..rules import conditions

    try:
        program = Program.model_validate(doc, context=SENT)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        details = [error_detail(e) for e in errors]
        details += _sound_sections_problems(doc, {str(e["loc"][0]) for e in errors if e["loc"]})
        details += conditions.campaign_problems(doc) + conditions.pricing_problems(doc)
        raise ProgramInvalid(f"the program document has {len(details)} problem(s)", details) from None
    found = problems(program) + conditions.campaign_problems(doc) + conditions.pricing_problems(doc)
    if found:
        raise ProgramInvalid(f"the program document has {len(found)} problem(s)", found)
    return program


# Neutral values for required sections that failed, so the others can still be checked.
_STAND_IN: dict[str, Any] = {
    "name": "x",
    "currency": "XXX",
    "points": {"earn": {"points_per_unit": 1, "unit_minor": 1}},
}
# Top-level lists whose elements are checked one by one: a broken element leaves out only its own
# cross-field problems. (Not tiers.levels: a level is judged against the one before it.)
_LISTS: dict[str, type[Doc]] = {
    "rewards": Reward,
    "paid_cards": PaidCardPlan,
    "campaigns": Campaign,
    "counters": Counter,
}
# A broken section's ids are unknown to the checks that lean on them: their "unknown ..." problems
# would be false (the wallet is there, only malformed).
_LEANING = {"coupons": "unknown coupon template", "wallets": "unknown wallet"}


def _sound_sections_problems(doc: Any, broken: set[str]) -> list[dict[str, str]]:
    """Cross-field problems of what pydantic accepted, so that one typo does not hide the rest ("every
    problem listed"): the sound sections, the sound elements of a broken list (each problem named by
    the element's index in the document) and the duplicate ids of a broken section. A problem that
    leans on a broken part is not reported."""
    if not isinstance(doc, dict):
        return []
    kept = {
        name: [i for i, e in enumerate(doc[name]) if _sound(model, e)]
        for name, model in _LISTS.items()
        if name in broken and isinstance(doc.get(name), list)
    }
    sound = {k: v for k, v in doc.items() if k not in broken}
    sound |= {k: v for k, v in _STAND_IN.items() if k in broken}
    program = _program(sound | {name: [doc[name][i] for i in at] for name, at in kept.items()})
    if program is None:  # the list itself is refused (too long): its elements are not checked
        kept, program = {}, _program(sound)
    if program is None:
        return []
    found = duplicate_ids(doc, broken)
    for problem in problems(program):
        field = problem["field"]
        root = re.split(r"[.\[]", field)[0]
        if root in kept:  # the sound elements' indexes back to the document's
            element = re.match(r"[^\[]*\[(\d+)\](.*)", field)
            field = f"{root}[{kept[root][int(element[1])]}]{element[2]}" if element else field
        elif root in broken:
            continue
        if {**problem, "field": field} not in found:
            found.append({**problem, "field": field})
    for section, message in _LEANING.items():
        if section in broken:
            found = [p for p in found if message not in p["message"]]
    return found


def _sound(model: type[Doc], element: Any) -> bool:
    try:
        model.model_validate(element)
    except ValidationError:
        return False
    return True


def _program(doc: dict[str, Any]) -> Program | None:
    try:
        return Program.model_validate(doc)
    except ValidationError:
        return None


def as_sent(program_id: str, doc: Any) -> Any:
    """The document as GET answered it may come back: its `program_id` (this program's, else a 422) and
    `version` (the one read; each save makes the next) are not part of the document."""
    if not isinstance(doc, dict) or not {"program_id", "version"} & doc.keys():
        return doc
    if doc.get("program_id", program_id) != program_id:
        raise ValidationFailed.field("program_id", f"must be this program's id, {program_id!r} (the path's)")
    return {k: v for k, v in doc.items() if k not in ("program_id", "version")}


def save(store: Store, program_id: str, doc: Any) -> ProgramSaved:
    """Validate and store the next version (guarded by the current one, so two saves never share one)."""
    doc = as_sent(program_id, doc)
    program = validate(doc)
    actor = caller.current()  # a PUT saves and publishes at once

    def attempt(_: Attempt) -> ProgramSaved:
        meta = {"saved_by": actor, "published_by": actor}
        return put_version(store, program_id, doc, program, live_version(store, program_id) + 1, meta)

    return retry(attempt, contended())


def contended() -> Contention:
    return Contention("the program is being saved concurrently; retry")


def live_version(store: Store, program_id: str) -> int:
    """The live version, 0 when the program has none yet."""
    current = store.get_program(program_id)
    return current[1] if current else 0


def put_version(
    store: Store,
    program_id: str,
    doc: dict[str, Any],
    program: Program,
    version: int,
    meta: dict[str, Any],
    published: tuple[str, int] | None = None,
) -> ProgramSaved:
    """The one write of a live version (a PUT, a draft's publish, a restore): Stale when `version - 1`
    is no longer the live one (the caller's retry reads again)."""
    try:
        store.put_program(program_id, doc, version, clock.iso(clock.now()), meta, published)
    except TooLarge as big:
        if big.what == SHADOWED:
            message = (
                "the program and the draft of its shadow run are over one item's 400 KB together: start the "
                "shadow run again with a smaller draft (POST .../drafts/{draft_id}/shadow), then save"
            )
            raise ProgramInvalid(message, [{"field": "shadow", "message": message}]) from None
        raise _too_large(doc, big.size) from None
    _cache.pop((store.table, program_id), None)
    return ProgramSaved.model_validate(
        {"program_id": program_id, "version": version, "warnings": pricing.warnings(program)}
    )


def _too_large(doc: dict[str, Any], size: int) -> ProgramInvalid:
    """A valid document that one DynamoDB item cannot hold, naming its largest section (where to cut)."""
    largest = max(doc, key=lambda k: len(document_text(doc[k]).encode()))
    message = (
        f"the program document takes {size:,} bytes stored; a program may take at most "
        f"{MAX_PROGRAM_BYTES:,} bytes (compact JSON, UTF-8: one DynamoDB item holds at most 400 KB)"
    )
    detail = {"field": largest, "message": message, "bytes": size, "limit_bytes": MAX_PROGRAM_BYTES}
    return ProgramInvalid(message, [detail])


def document(store: Store, program_id: str) -> dict[str, Any]:
    current = store.get_program(program_id)
    if current is None:
        raise NotFound(f"program {program_id!r} not found", [{"field": "program_id", "message": "unknown program"}])
    doc, version = current
    return {**doc, "program_id": program_id, "version": version}


def versions(store: Store, program_id: str, limit: int, cursor: str | None) -> ProgramVersions:
    """The saved versions, newest first: 1 Query a page (plus 1 GetItem when the first page is empty)."""
    page = store.versions(program_id, limit, cursor)
    if page is None:
        raise ValidationFailed.field("cursor", "not a cursor this history returned")
    found, last = page
    if not found and not cursor:
        document(store, program_id)  # no version at all: an unknown program (404)
    return ProgramVersions.model_validate(
        {"program_id": program_id, "versions": found, "next_cursor": store.encode_cursor(last) if last else None}
    )


def version(store: Store, program_id: str, number: int) -> ProgramVersion:
    found = store.get_version(program_id, number)
    if found is None:
        document(store, program_id)  # an unknown program first, then an unknown version
        unknown = [{"field": "version", "message": "unknown version"}]
        raise NotFound(f"program {program_id!r} has no version {number}", unknown)
    return ProgramVersion.model_validate({"program_id": program_id, **found, "document": found["doc"]})


def roi(store: Store, program_id: str, rates: tuple[int, ...]) -> RoiTable:
    """The paid-card return table of the current program, with its pricing warnings."""
    doc = document(store, program_id)
    program = Program.model_validate({k: v for k, v in doc.items() if k not in ("program_id", "version")})
    return RoiTable.model_validate(
        {
            "program_id": program_id,
            "version": doc["version"],
            "plans": pricing.roi(program, rates),
            "warnings": pricing.warnings(program),
        }
    )


def load(store: Store, program_id: str) -> Program:
    """The current program, at most `PROGRAM_CACHE_TTL_SECONDS` old (a warm container reads it rarely)."""
    return _load(store, program_id)[0]


def member_key(store: Store, program_id: str) -> str:
    """The program's secret for keyed hashes of member ids (store/keys.former_key), read with the
    program: no round trip of its own, but once for a program saved before programs had one."""
    program, found = _load(store, program_id)
    if found is None:
        found = store.member_key(program_id)
        _cache[(store.table, program_id)] = (time.monotonic() + ttl(), program, found)
    return found


def _load(store: Store, program_id: str) -> tuple[Program, str | None]:
    key = (store.table, program_id)
    hit = _cache.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1], hit[2]
    current = store.get_program_shadowed(program_id)
    if current is None:
        raise NotFound(f"program {program_id!r} not found", [{"field": "program_id", "message": "unknown program"}])
    program = Program.model_validate(current[0])
    _cache[key] = (time.monotonic() + ttl(), program, current[2])
    _shadows[key] = _shadow(current[3])
    return program, current[2]


# The program's shadow run as read with it (draft id, until, the draft), kept beside `_cache`.
_shadows: dict[tuple[str, str], tuple[str, datetime, Program] | None] = {}


def shadow(store: Store, program_id: str, at: datetime) -> tuple[str, Program] | None:
    """The program's shadow run still going at `at` (its draft id and draft), read with the program."""
    _load(store, program_id)
    found = _shadows.get((store.table, program_id))
    return (found[0], found[2]) if found is not None and at < found[1] else None


def _shadow(kept: dict[str, Any] | None) -> tuple[str, datetime, Program] | None:
    if kept is None:
        return None
    return str(kept["draft_id"]), clock.parse(str(kept["until"])), Program.model_validate(kept["doc"])
