"""Bulk import of an existing member base: a batch of up to 500 members (the route, or one batch of an
S3 file through the work queue), each member one transaction through the write pipeline, exactly once.

A batch is claimed by the hash of its content (another content under the same import id and number:
409), then each line is validated and committed; a line whose member exists already is imported
(this import wrote it: a repeat) or skipped (a member from elsewhere, left as it is). The batch's
result is kept on its item, so a repeat answers it and the report adds the batches up.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError

from .. import Model, clock
from ..errors import Contention, IdempotencyConflict, LoyaltyError, NotFound, Unavailable, field_path
from ..program import Program
from ..rules import imports
from ..rules.posting import Change
from ..schemas import ImportBatchResult, ImportMember, ImportProblem, ImportReport
from ..store import MemberWrite, Stale, Store
from . import members, programs
from .pipeline import Attempt, commit, retry

PARALLEL = 8  # members committed at once within a batch: transactions on distinct partitions
REPORTED = 1000  # problems a report lists

Fate = tuple[Literal["imported", "skipped", "refused"], list[ImportProblem]]


def digest(program_id: str, import_id: str, n: int, lines: Sequence[Any]) -> str:
    payload = {"program": program_id, "import": import_id, "batch": n, "lines": list(lines)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class ImportWork(Model):
    """A work-queue message: one batch of an import file (jobs/imports.py plans them, the worker runs them)."""

    kind: Literal["import"] = "import"
    program_id: str
    import_id: str
    bucket: str
    key: str
    batch: int
    start: int
    end: int
    first_line: int


def batch(
    store: Store,
    program_id: str,
    import_id: str,
    n: int,
    lines: Sequence[Any],
    now: datetime,
    first_line: int = 1,
    text: bool = False,
) -> tuple[bool, ImportBatchResult]:
    """(ran, result): ran False when the batch was done already (its stored result). `text`: the lines
    are a file's (JSON text each; blank lines are no lines). Round trips: 1 PutItem (claim) + per
    line 1 TransactWriteItems (+1 GetItem when the member exists) + 1 UpdateItem (the result)."""
    program = programs.load(store, program_id)
    hashed = digest(program_id, import_id, n, lines)
    found = store.claim_batch(program_id, import_id, n, hashed, clock.iso(now))
    if found is not None:
        if found.get("request_hash") != hashed:
            raise IdempotencyConflict("batch", f"{import_id}/{n}")  # names the field batch_id
        return False, ImportBatchResult.model_validate_json(found["result"])
    numbered = [(i, _parse(line) if text else line) for i, line in enumerate(lines, first_line)]
    numbered = [(i, line) for i, line in numbered if line is not BLANK]
    first: dict[str, int] = {}  # member id -> the line that brings it; a later line of the batch repeats it
    # IMPORT_PARALLEL: moto's DynamoDB (the handler tests) is not safe for concurrent transactions.
    with ThreadPoolExecutor(max_workers=int(os.environ.get("IMPORT_PARALLEL", PARALLEL))) as pool:
        running = []
        for i, line in numbered:
            mid = line.get("member_id") if isinstance(line, dict) else None
            if isinstance(mid, str) and first.setdefault(mid, i) != i:
                repeat = ImportProblem(
                    batch=n, line=i, member_id=mid, field="member_id", message=f"repeats line {first[mid]}"
                )
                running.append(_done(("refused", [repeat])))
                continue
            # Each line in a copy of this context: the request's actor goes with it (usecases/pipeline.commit).
            running.append(
                pool.submit(contextvars.copy_context().run, _line, store, program, program_id, import_id, i, line, now)
            )
        fates = [job.result() for job in running]
    problems = [replace_batch(p, n) for _, reasons in fates for p in reasons]
    result = ImportBatchResult(
        program_id=program_id,
        import_id=import_id,
        batch=n,
        lines=len(numbered),
        imported=sum(1 for fate, _ in fates if fate == "imported"),
        skipped=sum(1 for fate, _ in fates if fate == "skipped"),
        refused=sum(1 for fate, _ in fates if fate == "refused"),
        problems=problems,
    )
    store.finish_batch(program_id, import_id, n, hashed, result.model_dump(mode="json"))
    return True, result


ALREADY = "already a member (not by this import): left as it is"
BLANK = object()


@dataclass(frozen=True)
class NotJson:
    error: str


def _done(fate: Fate) -> Future[Fate]:
    settled: Future[Fate] = Future()
    settled.set_result(fate)
    return settled


def _parse(text: str) -> Any:
    if not text.strip():
        return BLANK
    try:
        return json.loads(text)
    except ValueError as bad:
        return NotJson(str(bad))


def replace_batch(problem: ImportProblem, n: int) -> ImportProblem:
    return problem.model_copy(update={"batch": n})


def _line(
    store: Store, program: Program, program_id: str, import_id: str, number: int, raw: Any, now: datetime
) -> Fate:
    """One line: imported (now, or by an earlier run of this import), skipped or refused, with why."""
    member_id = raw.get("member_id") if isinstance(raw, dict) and isinstance(raw.get("member_id"), str) else None

    def problem(field: str, message: str) -> ImportProblem:
        return ImportProblem(batch=0, line=number, member_id=member_id, field=field, message=message)

    if isinstance(raw, NotJson):
        return "refused", [problem("line", f"not valid JSON: {raw.error}")]
    try:
        line = ImportMember.model_validate(raw)
        fresh = imports.profile(program, program_id, line, import_id, now)
    except ValidationError as invalid:
        return "refused", [problem(field_path(tuple(e["loc"])) or "line", e["msg"]) for e in invalid.errors()]
    except LoyaltyError as refused:
        details = refused.details or [{"field": "line", "message": refused.message}]
        return "refused", [
            problem(str(d.get("field", "line")), str(d.get("message", refused.message))) for d in details
        ]

    def attempt(state: Attempt) -> Fate:
        change = Change.start(program, fresh, now, state.exhausted)
        imports.admit(change, line, import_id)
        write = MemberWrite(change=change, expected_version=None, what="import", client_id=import_id)
        commit(store, write, program_id)
        return "imported", []

    def exists(stale: Stale) -> Fate | None:
        if members.erasing(store, program_id, line.member_id, stale):
            return None
        if "profile" not in stale.failed:
            return None
        current = store.get_member(program_id, line.member_id)
        if current is None:
            return None
        return ("imported", []) if current.imported == import_id else ("skipped", [problem("member_id", ALREADY)])

    try:
        return retry(attempt, Contention("the member is being written concurrently; import the batch again"), exists)
    except Unavailable:
        raise  # not the line's fault: the batch fails, to be sent (or delivered) again
    except LoyaltyError as refused:
        return "refused", [problem("line", refused.message)]


def report(store: Store, program_id: str, import_id: str) -> ImportReport:
    """The import's figures from its batches' items: 1 Query (per 1 MB of batches)."""
    programs.load(store, program_id)
    done = [json.loads(b["result"]) for b in store.batches(program_id, import_id) if "result" in b]
    if not done:
        raise NotFound(
            f"import {import_id!r} has no finished batch", [{"field": "import_id", "message": "unknown import"}]
        )
    problems = [p for b in done for p in b["problems"]]
    return ImportReport(
        program_id=program_id,
        import_id=import_id,
        batches=len(done),
        lines_read=sum(b["lines"] for b in done),
        imported=sum(b["imported"] for b in done),
        skipped=sum(b["skipped"] for b in done),
        refused=sum(b["refused"] for b in done),
        problems=[ImportProblem.model_validate(p) for p in problems[:REPORTED]],
        truncated=len(problems) > REPORTED,
    )
