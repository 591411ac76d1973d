"""Referral: a member's code (GET .../referral) and what an enrolment's referral fields name.

When the code item is written: at the member's first GET .../referral, not at enrolment. A code no
one has read cannot have been shared, so an enrolment naming it is right to find it unknown; members
enrolled before referral existed need nothing migrated, and an enrolment's transaction stays as it was.
"""

from __future__ import annotations

from ..errors import ValidationFailed
from ..member import Profile
from ..rules import referral
from ..schemas import Enrol, ReferralCode
from ..store import Store
from . import pipeline, programs


def code(store: Store, program_id: str, member_id: str) -> ReferralCode:
    """The member's code: 1 GetItem of the profile (404 for an unknown member) + 1 GetItem of the code
    item; the first time, 1 conditional Put more. The n-th candidate (rules/referral.code) held by
    another member is a collision: the next one is taken, and the item makes the choice stable."""
    pipeline.existing(store, program_id, member_id)
    key = programs.member_key(store, program_id)
    for n in range(referral.MAX_COLLISIONS):
        candidate = referral.code(key, member_id, n)
        owner = store.code_owner(program_id, candidate)
        if owner is None and store.claim_code(program_id, candidate, member_id):
            return ReferralCode(code=candidate)
        if owner is None:
            owner = store.code_owner(program_id, candidate)  # claimed meanwhile: by this member's other GET?
        if owner == member_id:
            return ReferralCode(code=candidate)
    raise RuntimeError(f"{referral.MAX_COLLISIONS} referral code collisions in a row")


def referrer(store: Store, program_id: str, member_id: str, text: str) -> str:
    """The member a code an enrolment names belongs to (1 GetItem), or a 422 naming referral_code."""
    found = referral.normal_code(text)
    owner = store.code_owner(program_id, found) if found else None
    if owner is None:
        raise ValidationFailed.field("referral_code", "unknown referral code")
    if owner == member_id:
        raise ValidationFailed.field("referral_code", "a member cannot be referred by its own code")
    return owner


def fingerprint(text: str) -> str:
    """The fingerprint hash as kept, or a 422 naming fingerprint."""
    found = referral.normal_fingerprint(text)
    if found is None:
        raise ValidationFailed.field("fingerprint", "must be a hash (32 to 128 hex digits), never the raw value")
    return found


def enrolling(store: Store, program_id: str, body: Enrol, fresh: Profile) -> None:
    """An enrolment's referral fields checked and set on the new profile: 1 GetItem for the code, 1 for
    the referrer's profile (its fingerprint). Nothing is written for a refused field."""
    hashed = fingerprint(body.fingerprint) if body.fingerprint is not None else None
    fresh.fingerprint = hashed
    if body.referral_code is None:
        return
    by = referrer(store, program_id, body.member_id, body.referral_code)
    found = store.get_member(program_id, by)
    if found is None:  # its member was erased since: the code names no one now
        raise ValidationFailed.field("referral_code", "unknown referral code")
    referral.enrolled(fresh, found, hashed)
