"""The write pipeline: the one path every write takes, and its one retry loop.

    read the aggregate -> apply pure rules to a Change -> finish it (rules/due.finish) -> commit it once

`retry` is the loop: an attempt reads afresh, builds and commits; a lost optimistic race (the
profile's version moved, a transaction conflict) is tried again after a jittered wait, a guard that
waiting cannot fix (a budget found spent, a coupon already used) at once, so the rules can say why.
`once` is a request's write: 1 strongly consistent read + 1 transaction on the happy path, the
transaction carrying the request's reference item (`attribute_not_exists`), so a duplicate, however
concurrent, cannot commit twice: it finds the reference and answers with the first result, or 409
when the payload differs.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, TypeVar

from pydantic import BaseModel

from .. import caller, clock
from ..errors import Contention, IdempotencyConflict, LoyaltyError, NotFound, ValidationFailed
from ..member import AuditEntry, Profile
from ..rules import audience, due
from ..store import MemberWrite, Ref, RefExists, Stale, Store, TooLarge

T = TypeVar("T")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)
ATTEMPTS = 30
# Guards another writer is winning right now: worth a wait before reading again.
RACES = frozenset({"profile", "stock", "program", "stats"})


@dataclass
class Attempt:
    """What one attempt of a write tells the next: the budget keys found spent (Change.start skips
    their grants, or refuses for a reward, and the rest of the write goes through)."""

    exhausted: set[str] = field(default_factory=set)


def backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))


def spent_budgets(failed: set[str]) -> set[str]:
    """The budget keys whose condition stopped a transaction: spent for this month, for good."""
    return {label.removeprefix("budget:") for label in failed if label.startswith("budget:")}


def retry(
    attempt: Callable[[Attempt], R],
    contended: LoyaltyError,
    on_stale: Callable[[Stale], R | None] | None = None,
) -> R:
    """Run `attempt` until it returns. A `Stale` it raises is another attempt; `on_stale` may answer
    instead (an enrolment finding the member enrolled meanwhile). `contended` after ATTEMPTS."""
    state = Attempt()
    for n in range(ATTEMPTS):
        try:
            return attempt(state)
        except Stale as stale:
            state.exhausted |= spent_budgets(stale.failed)
            answer = on_stale(stale) if on_stale is not None else None
            if answer is not None:
                return answer
            if stale.failed <= RACES:
                backoff(n)
    raise contended


def commit(store: Store, write: MemberWrite, program_id: str) -> None:
    """Every member write ends here: the change's last rules (rules/due.finish), who made it (a
    request's write: its actor on the reference and an audit item in the member's partition), then
    the one transaction."""
    if write.change is not None:
        write.due_moves = due.finish(write.change)
        write.audience_moves = audience.moves(write.change.profile)  # after finish: it may move tier, tags, segment
    what, client_id = (write.ref.kind, write.ref.ref_id) if write.ref else (write.what or "write", write.client_id)
    write.audit = audit_entry(what, client_id, write.change.profile.version if write.change is not None else 0)
    if write.ref is not None and write.audit is not None:
        write.ref.actor = write.audit.actor
    store.commit(write, program_id)


def audit_entry(what: str, client_id: str | None, version: int) -> AuditEntry | None:
    """A request's write, by whom, at the wall clock's time (a client's `at` may lie in the past);
    None outside a request (a scheduled run: the ledger names its sweep)."""
    actor = caller.current()
    if actor is None:
        return None
    return AuditEntry(at=clock.now(), what=what, client_id=client_id, actor=actor, version=version)


# ---- reading the aggregate -------------------------------------------------------------------------


def missing(member_id: str) -> NotFound:
    return NotFound(
        f"member {member_id!r} is not enrolled in this program", [{"field": "member_id", "message": "unknown member"}]
    )


def existing(store: Store, program_id: str, member_id: str) -> Profile:
    """The member's profile (one strongly consistent GetItem), or 404 naming member_id."""
    profile = store.get_member(program_id, member_id)
    if profile is None:
        raise missing(member_id)
    return profile


# ---- a request's write, exactly once ---------------------------------------------------------------


@dataclass(frozen=True)
class RefKey:
    """Which request a write answers: its kind (order, refund...), the client's id and the member.
    `by_member`: a member route's write, whose id is the member's own (no other member's nor the
    server's: a member cannot take an id the server will use)."""

    kind: str
    ref_id: str
    member_id: str
    by_member: bool = False

    @property
    def owner(self) -> str | None:
        """Whose id space the id is in: the member's own, or None (the program's)."""
        return self.member_id if self.by_member else None

    @property
    def source(self) -> str:
        """What the write's entries and grants are traced to, `kind:id` (a member's own: `kind:me:id`):
        coupon ids derive from it, so a member's write never issues the ids of the server's same id."""
        return f"{self.kind}:me:{self.ref_id}" if self.by_member else f"{self.kind}:{self.ref_id}"


@dataclass
class Built(Generic[M]):
    """What a use case's `build` makes of a fresh read: the write, the result the request answers
    (kept on the reference for repeats) and facts later writes need (an order's points, for refunds)."""

    write: MemberWrite
    result: M
    facts: dict[str, Any] = field(default_factory=dict)


class Outcome(NamedTuple, Generic[M]):
    """A request's result, and whether this request wrote it (201) or repeats an earlier one (200)."""

    created: bool
    result: M


def request_hash(program_id: str, member_id: str, body: BaseModel) -> str:
    """Fingerprint of what the client sent (defaults it left out do not count)."""
    payload = {"program": program_id, "member": member_id, "body": body.model_dump(mode="json", exclude_unset=True)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def too_large(big: TooLarge) -> ValidationFailed:
    """A write that one DynamoDB transaction cannot hold (what the program lets one request issue at
    once), refused with nothing written rather than failing as DynamoDB's ValidationException."""
    message = (
        f"this request would write {big.size} items at once; one transaction holds at most {big.limit}"
        " (the program issues too much in one write)"
    )
    return ValidationFailed(message, [{"field": "body", "message": message, "items": big.size, "limit": big.limit}])


def once(
    store: Store,
    program_id: str,
    ref: RefKey,
    body: BaseModel,
    result: type[M],
    build: Callable[[T, Attempt], Built[M]],
    read: Callable[[], T] | None = None,
    on_stale: Callable[[Stale, MemberWrite], None] | None = None,
    former: RefKey | None = None,
) -> Outcome[M]:
    """Run `build` on a fresh `read` (default: the member's profile) until its write commits.

    `ref` names the request, `result` the model of its answer (a repeat is answered from the
    reference); `on_stale` learns from a failed attempt (a stock shard found empty); `former` is the
    reference's id before its form changed: a repeat of a request written then is answered from it,
    if that reference is the same member's."""
    digest = request_hash(program_id, ref.member_id, body)
    fetch: Callable[[], Any] = read or (lambda: existing(store, program_id, ref.member_id))

    def replay(item: dict[str, Any]) -> Outcome[M]:
        if item.get("request_hash") != digest:
            raise IdempotencyConflict(ref.kind, ref.ref_id)
        return Outcome(False, result.model_validate(json.loads(item["response"])))

    def attempt(state: Attempt) -> Outcome[M]:
        try:
            built = build(fetch(), state)
        except LoyaltyError:
            # A rule refused it (cap reached, over-refund...): if this is a retry of a request that
            # already succeeded, the first result wins over the refusal.
            done = store.get_ref(program_id, ref.kind, ref.ref_id, ref.owner)
            if done is None and former is not None:
                done = store.get_ref(program_id, former.kind, former.ref_id, former.owner)
                done = done if done is not None and done.get("member_id") == former.member_id else None
            if done is not None and done.get("member_id") == ref.member_id:
                return replay(done)
            raise  # another member's request of the same id is not this one's: the rule's refusal stands
        write = built.write
        response = built.result.model_dump(mode="json")
        write.ref = Ref(ref.kind, ref.ref_id, ref.member_id, digest, response, built.facts, by_member=ref.by_member)
        try:
            commit(store, write, program_id)
        except RefExists as exists:
            return replay(exists.item)
        except TooLarge as big:
            raise too_large(big) from None
        except Stale as stale:
            if on_stale is not None:
                on_stale(stale, write)
            raise
        return Outcome(True, built.result)

    return retry(attempt, Contention("too many concurrent writes to this member; retry the request"))
