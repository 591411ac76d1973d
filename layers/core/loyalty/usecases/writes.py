"""The exactly-once write loop every member write goes through.

1 strongly consistent read + 1 transaction on the happy path. The transaction carries the request's
reference item (`attribute_not_exists`), so a duplicate, however concurrent, cannot commit twice: it
finds the reference and answers with the first result, or 409 when the payload differs. A lost
optimistic race (profile version moved) is retried a bounded number of times with jittered backoff.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from ..errors import Contention, IdempotencyConflict, LoyaltyError, ValidationFailed
from ..rules import due
from ..store import MemberWrite, Ref, RefExists, Stale, Store, TooLarge

T = TypeVar("T")
ATTEMPTS = 30


def request_hash(program_id: str, member_id: str, body: BaseModel) -> str:
    """Fingerprint of what the client sent (defaults it left out do not count)."""
    payload = {"program": program_id, "member": member_id, "body": body.model_dump(mode="json", exclude_unset=True)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def spent_budgets(failed: set[str]) -> set[str]:
    """The budget keys whose condition stopped a transaction: spent for this month, for good."""
    return {label.removeprefix("budget:") for label in failed if label.startswith("budget:")}


def backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))


def replay(item: dict[str, Any], digest: str, kind: str, ref_id: str) -> dict[str, Any]:
    if item.get("request_hash") != digest:
        raise IdempotencyConflict(kind, ref_id)
    return json.loads(item["response"])


def too_large(big: TooLarge) -> ValidationFailed:
    """A write that one DynamoDB transaction cannot hold (what the program lets one request issue at
    once), refused with nothing written rather than failing as DynamoDB's ValidationException."""
    message = (
        f"this request would write {big.size} items at once; one transaction holds at most {big.limit}"
        " (the program issues too much in one write)"
    )
    return ValidationFailed(message, [{"field": "body", "message": message, "items": big.size, "limit": big.limit}])


@dataclass(frozen=True)
class RefKey:
    """Which request a write answers: its kind (order, refund...), the client's id and the member."""

    kind: str
    ref_id: str
    member_id: str


@dataclass
class Built:
    """What a use case's `build` makes of a fresh read: the write, the response the request answers
    (kept on the reference for repeats) and facts later writes need (an order's points, for refunds)."""

    write: MemberWrite
    response: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)


def commit(store: Store, write: MemberWrite, program_id: str) -> None:
    """Every member write ends here: the change's last rules (rules/due.finish), then the one transaction."""
    if write.change is not None:
        write.due_moves = due.finish(write.change)
    store.commit(write, program_id)


def once(
    store: Store,
    program_id: str,
    ref: RefKey,
    body: BaseModel,
    read: Callable[[], T],
    build: Callable[[T], Built],
    on_stale: Callable[[set[str], MemberWrite], None] | None = None,
    exhausted: set[str] | None = None,
) -> tuple[bool, dict[str, Any]]:
    """Run `build` on a fresh `read` until its write commits. Returns (first_time, response).

    `ref` names the request; `build` makes the write, its response and the facts to keep on the reference.
    `exhausted` is the set `build` hands to Change.start: budgets found spent are added to it, so the
    next attempt skips their grants (or refuses, for a reward) and the rest of the write goes through.
    """
    kind, ref_id, member_id = ref.kind, ref.ref_id, ref.member_id
    digest = request_hash(program_id, member_id, body)
    for attempt in range(ATTEMPTS):
        state = read()
        try:
            built = build(state)
        except LoyaltyError:
            # A rule refused it (cap reached, over-refund...): if this is a retry of a request that
            # already succeeded, the first result wins over the refusal.
            done = store.get_ref(program_id, kind, ref_id)
            if done is not None:
                return False, replay(done, digest, kind, ref_id)
            raise
        write, response = built.write, built.response
        write.ref = Ref(
            kind=kind, ref_id=ref_id, member_id=member_id, request_hash=digest, response=response, data=built.facts
        )
        try:
            commit(store, write, program_id)
            return True, response
        except RefExists as exists:
            return False, replay(exists.item, digest, kind, ref_id)
        except TooLarge as big:
            raise too_large(big) from None
        except Stale as stale:
            if on_stale is not None:
                on_stale(stale.failed, write)
            if exhausted is not None:
                exhausted |= spent_budgets(stale.failed)
            if stale.failed - {"profile", "stock"}:
                # A guard that a retry cannot fix (a coupon already used...): read again and let the
                # rules say why, without waiting.
                continue
            backoff(attempt)
    raise Contention("too many concurrent writes to this member; retry the request")
