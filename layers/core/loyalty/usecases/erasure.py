"""Erasure: DELETE .../members/{member_id} (rules/erasure.py says what survives, store/erasure.py how)."""

from __future__ import annotations

import secrets
from datetime import datetime

from .. import clock
from ..errors import Contention
from ..rules import erasure
from ..rules.posting import Change
from ..schemas import Erased
from ..store import CouponRevoke, Erasure, Store
from . import pipeline, programs
from .pipeline import Attempt, Outcome, retry
from .referral import drop_codes


def pseudonym() -> str:
    """Random, so irreversible: no key or hash leads back from it to the member id."""
    return f"erased-{secrets.token_hex(16)}"


def erase(store: Store, program_id: str, member_id: str, now: datetime) -> Outcome[Erased]:
    """200 with what the erasure did; a repeat (or a concurrent twin) answers the first result. A
    member id erased and then enrolled again is a new member, and is erased anew.

    Round trips: 1 GetItem + 1 Query (the wallet) + 1 TransactWriteItems, then the move (1 Query of
    the partition, BatchWriteItem per 25 items copied or deleted, 1 UpdateItem per reference) and
    1 UpdateItem of the marker."""
    program = programs.load(store, program_id)
    member_key = programs.member_key(store, program_id)

    def attempt(state: Attempt) -> Outcome[Erased]:
        profile = store.get_member(program_id, member_id)
        if profile is None:
            done = store.erasure(program_id, member_id)
            if done is None:
                raise pipeline.missing(member_id)
            finish(store, program_id, member_id, done)
            return Outcome(False, Erased.model_validate_json(done["response"]))
        change = Change.start(program, profile, now, state.exhausted)
        removed = erasure.erase(change, pseudonym())
        revoke = erasure.unused(store.coupons(program_id, member_id), now)
        result = Erased(
            program_id=program_id,
            member_id=member_id,
            erased_at=now,
            points_removed=removed,
            coupons_revoked=len(revoke),
        )
        at = clock.iso(now)
        audit = pipeline.audit_entry("erasure", None, change.profile.version)
        response = result.model_dump(mode="json")
        write = Erasure(profile, change.profile, change.entries, CouponRevoke(revoke, at), response, member_key, audit)
        store.erase(program_id, write, at)
        _move(store, program_id, member_id, change.profile.member_id, at)
        return Outcome(True, result)

    return retry(attempt, Contention("too many concurrent writes to this member; retry the request"))


def finish(store: Store, program_id: str, member_id: str, marker: dict[str, object]) -> None:
    """Complete an erasure whose move was interrupted (a repeat, or an enrolment of the same id)."""
    if marker.get("pending"):
        _move(store, program_id, member_id, str(marker["pseudonym"]), str(marker["erased_at"]))


def _move(store: Store, program_id: str, member_id: str, pseudonym: str, at: str) -> None:
    """The member's referral code items first: the marker stays pending until the move's end, so a
    crash anywhere here is finished by a repeat."""
    drop_codes(store, program_id, member_id)
    store.move(program_id, member_id, pseudonym, at)
