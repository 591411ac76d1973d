"""Referral: a member's code (GET .../referral) and what an enrolment's referral fields name.

When the code item is written: at the member's first GET .../referral, not at enrolment. A code no
one has read cannot have been shared, so an enrolment naming it is right to find it unknown; members
enrolled before referral existed need nothing migrated, and an enrolment's transaction stays as it was.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from .. import clock
from ..errors import NotFound, ValidationFailed
from ..member import Coupon, Profile
from ..rules import campaigns, pending, referral, referral_cancel, referral_report
from ..rules.posting import Change
from ..schemas import Enrol, MemberReferralCode, ReferralFigures, RefundResult
from ..store import CouponRevoke, MemberWrite, Store, decode_change
from . import health, pipeline, programs
from .pipeline import Attempt, Built, Outcome, RefKey, missing


def code(store: Store, program_id: str, member_id: str) -> MemberReferralCode:
    """The member's code: 1 GetItem of the profile (404 for an unknown member) + 1 GetItem of the code
    item; the first time, 1 conditional Put more. The n-th candidate (rules/referral.code) held by
    another member is a collision: the next one is taken, and the item makes the choice stable."""
    pipeline.existing(store, program_id, member_id)
    key = programs.member_key(store, program_id)
    for n in range(referral.MAX_COLLISIONS):
        candidate = referral.code(key, member_id, n)
        owner = store.code_owner(program_id, candidate)
        if owner is None and store.claim_code(program_id, candidate, member_id):
            return MemberReferralCode(code=candidate)
        if owner is None:
            owner = store.code_owner(program_id, candidate)  # claimed meanwhile: by this member's other GET?
        if owner == member_id:
            return MemberReferralCode(code=candidate)
    raise RuntimeError(f"{referral.MAX_COLLISIONS} referral code collisions in a row")


def drop_codes(store: Store, program_id: str, member_id: str) -> None:
    """An erasure deletes the member's code items, so no code leads to its id: every candidate looked at
    (an earlier one may have been freed by another member's erasure and claimed since), 1 BatchGetItem."""
    key = programs.member_key(store, program_id)
    codes = [referral.code(key, member_id, n) for n in range(referral.MAX_COLLISIONS)]
    store.drop_codes(program_id, codes, member_id)


def enrolment_reads(store: Store, program_id: str, body: Enrol) -> tuple[dict[str, Any] | None, str | None]:
    """What an enrolment reads before its write, in one round trip (store.enrolment_reads): the guest
    customer item of its customer_ref (usecases/guests.conversion) and the member its referral_code is
    (None: unknown or malformed; `enrolling` refuses it)."""
    code = referral.normal_code(body.referral_code) if body.referral_code is not None else None
    return store.enrolment_reads(program_id, body.customer_ref or None, code)


def referrer(store: Store, program_id: str, member_id: str, owner: str | None) -> str:
    """The member whose code an enrolment names (`owner`, as enrolment_reads found it), or a 422 naming
    referral_code."""
    if owner is None:
        raise ValidationFailed.field("referral_code", "unknown referral code")
    if owner == member_id:
        _count_self(store, program_id)
        raise ValidationFailed.field("referral_code", "a member cannot be referred by its own code")
    return owner


def _count_self(store: Store, program_id: str) -> None:
    """A self-referral is refused (422) with nothing written to the member, but counted in the referral
    figures (`refused.self`): straight into today's counter, once per refused request."""
    today = clock.local_date(clock.now(), programs.load(store, program_id).zone).isoformat()
    store.add_stats({(program_id, ("referral_day", today)): {"refused:self": 1}}, [], 0)


def fingerprint(text: str) -> str:
    """The fingerprint hash as kept, or a 422 naming fingerprint."""
    found = referral.normal_fingerprint(text)
    if found is None:
        raise ValidationFailed.field("fingerprint", "must be a hash (32 to 128 hex digits), never the raw value")
    return found


def enrolling(store: Store, program_id: str, body: Enrol, fresh: Profile, owner: str | None) -> None:
    """An enrolment's referral fields checked and set on the new profile (`owner`: the member its code
    is, from enrolment_reads): 1 GetItem for the referrer's profile (its fingerprint). Nothing is
    written for a refused field."""
    hashed = fingerprint(body.fingerprint) if body.fingerprint is not None else None
    fresh.fingerprint = hashed
    if body.referral_code is None:
        return
    by = referrer(store, program_id, body.member_id, owner)
    found = store.get_member(program_id, by)
    if found is None:  # its member was erased since: the code names no one now
        raise ValidationFailed.field("referral_code", "unknown referral code")
    referral.enrolled(fresh, found, hashed)


class Conversion(BaseModel):
    """The referrer's write's request: the referee whose conversion it answers (its reference's hash)."""

    referee_id: str


class ReferrerReward(BaseModel):
    """What the referrer's write did, kept on its reference (REF#{pid}#referral#{referee}): rewarded, or
    refused with the reason; the referral figures count it from the stream."""

    referee_id: str
    referrer_id: str
    outcome: Literal["rewarded", "refused"]
    reason: str | None = None
    points: int = 0
    coupons: int = 0


def reward_referrer(
    store: Store, program_id: str, referee_id: str, referrer_id: str, now: datetime, held_from: datetime | None = None
) -> Outcome[ReferrerReward]:
    """The referrer's reward for one referee's conversion, exactly once whatever the redeliveries: a
    write through pipeline.once whose reference is keyed by the referee, in the referrer's partition
    (1 read + 1 transaction). Its `referral_converted` campaigns run in the same write. `held_from`:
    the converting order's time; its points (and its campaigns') then wait out that order's return
    window, as the referee's do (a refund inside it cancels both: `cancel_referrer`)."""
    program = programs.load(store, program_id)

    def build(profile: Profile, attempt: Attempt) -> Built[ReferrerReward]:
        change = Change.start(program, profile, now, attempt.exhausted)
        change.defer_until = pending.available_on(program, held_from) if held_from else None
        reason, points, coupons = referral.reward_referrer(change, referee_id, now)
        given: dict[str, Any] = {}
        if reason is None:  # its campaigns' points held like the reward's: a cancellation drops them too
            event = campaigns.Event("referral_converted", now, referral.source(referee_id), referee=referee_id)
            applied = campaigns.run(change, event)
            points_by = {a.campaign_id: a.points for a in applied if a.points}
            given = referral_cancel.given(change, referral.source(referee_id), True, points_by)
        change.defer_until = None
        outcome: Literal["rewarded", "refused"] = "refused" if reason else "rewarded"
        result = ReferrerReward(
            referee_id=referee_id,
            referrer_id=referrer_id,
            outcome=outcome,
            reason=reason,
            points=points,
            coupons=coupons,
        )
        facts = {"referral_outcome": outcome, "referral_reason": reason, "points": points, "coupons": coupons, **given}
        return Built(MemberWrite(change=change, expected_version=profile.version), result, facts)

    key = RefKey("referral", referee_id, referrer_id)
    return pipeline.once(store, program_id, key, Conversion(referee_id=referee_id), ReferrerReward, build)


BATCH_PROFILES = 100  # BatchGetItem's keys per call

CancelState = tuple[Profile, dict[str, Any] | None, dict[str, Coupon]]  # the referrer, its reward's reference, coupons


def cancel_referrer(store: Store, program_id: str, referee_id: str, referrer_id: str, now: datetime) -> int:
    """A refund inside the window cancelled the referee's referral: what the referrer's reward gave is
    taken back, exactly once (pipeline.once, its reference keyed by the referee), from what the
    reward's reference kept (rules/referral_cancel): 1 read of the profile and that reference, 1 of
    its coupons, 1 transaction. Returns the pending points cancelled."""
    program = programs.load(store, program_id)

    def read() -> CancelState:
        profile, reward, _ = store.get_member_ref_and_coupons(program_id, referrer_id, "referral", referee_id, [])
        if profile is None:
            raise missing(referrer_id)
        ids = referral_cancel.coupon_ids(reward)
        coupons = store.get_coupons(program_id, referrer_id, ids) if ids else []
        return profile, reward, {c.coupon_id: c for c in coupons}

    def build(state: CancelState, attempt: Attempt) -> Built[ReferrerReward]:
        profile, reward, coupons = state
        change = Change.start(program, profile, now, attempt.exhausted)
        taken = referral_cancel.cancel_referrer(change, referee_id, reward, coupons)
        result = ReferrerReward(referee_id=referee_id, referrer_id=referrer_id, outcome="refused", reason="refunded")
        result.points, result.coupons = -taken.points, -len(taken.revoke)
        write = MemberWrite(
            change=change,
            expected_version=profile.version,
            revoke=CouponRevoke(taken.revoke, clock.iso(now)) if taken.revoke else None,
            budget_returns=taken.returns,
        )
        reversed_by = {"campaigns_reversed": taken.campaigns} if taken.campaigns else {}  # the campaigns' figures
        return Built(write, result, {"points": -taken.points, **reversed_by})

    key = RefKey("referral_cancel", referee_id, referrer_id)
    done = pipeline.once(store, program_id, key, Conversion(referee_id=referee_id), ReferrerReward, build, read)
    return -done.result.points


def refund_cancelled(built: Built[RefundResult], taken: referral_cancel.Taken | None, at: datetime) -> None:
    """A refund that cancelled the referee's referral (usecases/earning.refund): what it took back in
    the refund's write and answer (`pending_cancelled`, `coupons_revoked`, `coupons_unrecovered`,
    `wallets_reversed`, `wallets_unrecovered`), and the fingerprint's take given back."""
    if taken is None:
        return
    result, write = built.result, built.write
    result.pending_cancelled += taken.points
    result.coupons_revoked += taken.revoke
    result.coupons_unrecovered += taken.unrecovered
    for mine, theirs in (
        (result.wallets_reversed, taken.wallets),
        (result.wallets_unrecovered, taken.wallets_unrecovered),
    ):
        for wallet, n in theirs.items():
            mine[wallet] = mine.get(wallet, 0) + n
    if taken.revoke:
        write.revoke = CouponRevoke((write.revoke.coupon_ids if write.revoke else []) + taken.revoke, clock.iso(at))
    write.budget_returns = {**(write.budget_returns or {}), **taken.returns}


def from_stream(store: Store, records: list[dict[str, Any]], now: datetime) -> int:
    """The stream's referee conversions and cancellations, each made the referrer's write: how many
    were answered. A referrer or program gone since is skipped (nothing to give or take); anything else
    fails the batch, which Lambda delivers again (the writes already made answer as repeats)."""
    done = 0
    for record in records:
        change = decode_change(record)
        if change is None or change.kind != "member" or change.member_id is None:
            continue
        found = referral.moved(change.old, change.new)
        if found is None:
            continue
        status, referred = found
        pid, referee, referrer = change.program_id, change.member_id, str(referred["by"])
        try:
            if status == "converted":
                reward_referrer(store, pid, referee, referrer, now, referral.held_from(referred))
            else:
                cancel_referrer(store, pid, referee, referrer, now)
        except NotFound:
            continue
        done += 1
    return done


def report(store: Store, program_id: str, start: date | None, end: date | None, now: datetime) -> ReferralFigures:
    """The referral figures of a range of program-local days, from the counters the stream keeps
    (rules/referral_report.py): 2 Queries, whatever the number of members, and 1 BatchGetItem (more
    only where erased referrers crowd the top: _members_since)."""
    program = programs.load(store, program_id)
    start, end = health.day_range(start, end, clock.local_date(now, program.zone))
    days, referrers = store.referral_stats(program_id, start.isoformat(), end.isoformat())
    found = referral_report.figures(days, referrers, _members_since(store, program_id, program.zone, referrers))
    return ReferralFigures.model_validate(
        {"program_id": program_id, "from": start.isoformat(), "to": end.isoformat(), **found}
    )


def _members_since(store: Store, program_id: str, zone: Any, referrers: list[dict[str, Any]]) -> dict[str, str]:
    """The program-local enrolment day of the range's referrers that are still members, so the report
    names no erased one (the per-referrer counters keep its id). Their profiles are read most converting
    first, 100 a BatchGetItem, only until the top list is known: usually one call."""
    order = referral_report.ranked(referral_report.converted(referrers), None)
    since: dict[str, str] = {}
    for at in range(0, len(order), BATCH_PROFILES):
        ids = [mid for mid, _ in order[at : at + BATCH_PROFILES]]
        for profile in store.get_members(program_id, ids):
            since[profile.member_id] = clock.local_date(profile.enrolled_at, zone).isoformat()
        unchecked = order[at + BATCH_PROFILES][1] if at + BATCH_PROFILES < len(order) else 0
        if referral_report.settled(referral_report.converted(referrers, since), unchecked):
            break
    return since
