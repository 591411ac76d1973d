"""Enrolment, the member's tags and the member's reads (view, ledger, coupon wallet, audit trail)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from .. import clock
from ..errors import Contention, ValidationFailed
from ..member import Card, Coupon, Profile
from ..program import PaidCardPlan, Program
from ..rules import (
    buckets,
    campaigns,
    counters,
    growth,
    holds,
    lifecycle,
    pending,
    referral,
    rfm,
    spending,
    tags,
    tiers,
    wallets,
)
from ..rules import profile as corrections
from ..rules.notices import text as notice_text
from ..rules.posting import Change
from ..schemas import (
    AuditTrail,
    CardView,
    Coupons,
    CouponView,
    Enrol,
    Enrolled,
    Ledger,
    MemberTags,
    MemberView,
    Notices,
    NoticeView,
    ProfileChange,
    TagsChange,
)
from ..store import MemberWrite, Stale, Store
from . import erasure, guests, pipeline, programs
from . import referral as referrals
from .pipeline import Attempt, Outcome, commit, retry


def enrol(store: Store, program_id: str, body: Enrol, now: datetime, by_member: bool = False) -> Outcome[Enrolled]:
    """The member view with the coupons the enrolment issued; created False when the member was already
    enrolled (nothing granted again; the same coupons, read from the wallet: 1 Query more).

    One transaction, guarded by the profile not existing yet. Only a member new to the program
    (`lifecycle.new_to_program`) gets the welcome pack and sets off the enrolment campaigns: not one
    migrated with `enrolled_at` (nor an imported one: usecases/imports.py runs neither), nor a
    returning member, whose id was erased before (the transaction checks its FORMER marker; no
    first-order bonus later either); finding that out costs that enrolment one more transaction.
    `by_member`: POST .../me, refused (403) where the program takes no self-enrolment.
    """
    program = programs.load(store, program_id)
    if by_member:
        lifecycle.check_self_enrolment(program)
    member_key = programs.member_key(store, program_id)
    if body.enrolled_at is not None and body.enrolled_at > now:
        raise ValidationFailed.field("enrolled_at", "must not be in the future")
    corrections.check_birthday(body.birthday, clock.local_date(now, program.zone))
    fresh = _fresh(program, program_id, body, now)
    guest, owner = referrals.enrolment_reads(store, program_id, body)
    guests.conversion(fresh, body.customer_ref, guest)
    referrals.enrolling(store, program_id, body, fresh, owner)
    returning = False  # learnt from a failed attempt: the id was erased before
    # What the enrolment's grants are traced to: its coupons carry these sources (a repeat finds them).
    welcome, event = f"welcome:{body.member_id}", f"enrolment:{body.member_id}"
    sources = {welcome} | {campaigns.grant_source(c, event) for c in program.campaigns if c.trigger == "enrolment"}

    def attempt(state: Attempt) -> Outcome[Enrolled]:
        change = Change.start(program, fresh, now, state.exhausted)
        change.profile.returning = returning
        if lifecycle.new_to_program(change.profile):
            change.grant(program.lifecycle.welcome, "welcome", now, welcome, budget="welcome")
            campaigns.run(change, campaigns.Event("enrolment", now, event))
            referral.convert(change, change.today, now, "enrolment")
        write = MemberWrite(change, None, what="enrolment", member_key=None if returning else member_key)
        write.guest_conversion = guests.converted(change.profile)
        commit(store, write, program_id)
        return Outcome(True, enrolled_view(program, change.profile, change.coupons, now))

    def enrolled(stale: Stale) -> Outcome[Enrolled] | None:
        """Already enrolled, or another enrolment of the same member committed meanwhile."""
        nonlocal returning
        if erasing(store, program_id, body.member_id, stale):
            return None
        if "former" in stale.failed:
            returning = True
        if stale.failed and "profile" not in stale.failed:
            return None  # only a budget: enrol without the pack, at once
        current = store.get_member(program_id, body.member_id)
        if current is None:
            return None
        issued = [c for c in store.coupons(program_id, body.member_id) if c.source in sources]
        return Outcome(False, enrolled_view(program, current, issued, now))

    return retry(attempt, Contention("the member is being enrolled concurrently; retry"), enrolled)


def _fresh(program: Program, program_id: str, body: Enrol, now: datetime) -> Profile:
    """The profile an enrolment creates: the first tier, and `new` unless migrated with `enrolled_at`."""
    first = program.tiers.levels[0].id if program.tiers else None
    enrolled_at = body.enrolled_at or now
    return Profile(
        program_id=program_id,
        member_id=body.member_id,
        enrolled_at=enrolled_at,
        birthday=body.birthday,
        channel=body.channel,
        tier_id=first,
        tier_since=enrolled_at if first else None,
        last_activity_at=enrolled_at,
        lifecycle_stage="new" if body.enrolled_at is None else "active",
    )


def correct(
    store: Store, program_id: str, member_id: str, body: ProfileChange, now: datetime, by_member: bool = False
) -> MemberView:
    """The member view after correcting its birthday or channel (rules/profile.py). Exactly once by the
    profile's version: 1 read + 1 version-guarded transaction; a race lost reads again, so of racing
    member changes one wins and the rest find the birthday changed (409, or 200 when it is the value
    they asked for). A correction that changes nothing writes nothing."""
    program = programs.load(store, program_id)

    def attempt(state: Attempt) -> MemberView:
        profile = pipeline.existing(store, program_id, member_id)
        change = Change.start(program, profile, now, state.exhausted)
        if not corrections.correct(change, body.birthday, body.channel, by_member):
            return view(program, profile, now)
        commit(store, MemberWrite(change=change, expected_version=profile.version, what="profile"), program_id)
        return view(program, change.profile, now)

    return retry(attempt, Contention("too many concurrent writes to this member; retry the request"))


def erasing(store: Store, program_id: str, member_id: str, stale: Stale) -> bool:
    """A new profile refused because an erasure of the same id is still moving its items: finish
    that move (the caller then tries again)."""
    if "erasure" not in stale.failed:
        return False
    marker = store.erasure(program_id, member_id)
    if marker is not None:
        erasure.finish(store, program_id, member_id, marker)
    return True


def set_tags(store: Store, program_id: str, member_id: str, body: TagsChange, now: datetime) -> MemberTags:
    """The member's tags after adding and removing those of `body`. Setting tags is idempotent by
    nature (a repeat finds them set and answers the same tags), so no client id is needed; a change
    that moves no tag writes nothing. Otherwise 1 read + 1 version-guarded transaction."""
    program = programs.load(store, program_id)

    def attempt(state: Attempt) -> MemberTags:
        profile = pipeline.existing(store, program_id, member_id)
        change = Change.start(program, profile, now, state.exhausted)
        tags.apply(change, body.add, body.remove)
        campaigns.after(change)  # tag_added: what its campaigns do is in the answer (tags they add)
        held = change.profile.tags
        if held != profile.tags:
            commit(store, MemberWrite(change=change, expected_version=profile.version, what="tags"), program_id)
        return MemberTags(program_id=program_id, member_id=member_id, tags=held)

    return retry(attempt, Contention("too many concurrent writes to this member; retry the request"))


def enrolled_view(program: Program, profile: Profile, issued: list[Coupon], now: datetime) -> Enrolled:
    """The enrolment's answer: its coupons in the wallet's order (by id), so a repeat answers alike."""
    ordered = sorted(issued, key=lambda coupon: coupon.coupon_id)
    return Enrolled.model_validate({**view(program, profile, now).model_dump(), "coupons": coupon_views(ordered, now)})


def coupon_views(wallet: list[Coupon], now: datetime, status: str | None = None) -> list[CouponView]:
    """The coupons as the member sees them now (`status`: only those in that state)."""
    shown = [(coupon, spending.shown_status(coupon, now)) for coupon in wallet]
    return [
        CouponView.model_validate(
            {**coupon.model_dump(), "status": state, "usable_now": spending.usable_now(coupon, now)}
        )
        for coupon, state in shown
        if status is None or state == status
    ]


def view(program: Program, profile: Profile, now: datetime) -> MemberView:
    """The member view of the contract. Expired buckets are left out even before the sweep runs."""
    today = clock.local_date(now, program.zone)
    live, _ = buckets.split_expired(profile.buckets, today)
    tier = None
    level = program.level(profile.tier_id)
    if program.tiers is not None and level is not None:
        value = tiers.metric(program.tiers, profile, today)
        tier = {
            "id": level.id,
            "name": level.name,
            "since": profile.tier_since,
            "progress": tiers.progress(program.tiers, level.id, value),
        }
    return MemberView.model_validate(
        {
            "program_id": profile.program_id,
            "member_id": profile.member_id,
            "enrolled_at": profile.enrolled_at,
            "last_purchase_at": profile.last_purchase_at,
            "lifecycle_stage": profile.lifecycle_stage,
            "birthday": profile.birthday,
            "channel": profile.channel,
            "tier": tier,
            "growth": growth.window_growth(program, profile, today) if program.tiers and program.tiers.growth else None,
            "points": {
                # The ledger's: pending points, due or not, count once credited (API.md "Pending points").
                "balance": buckets.total(live),
                "lifetime_earned": profile.lifetime_earned,
                "owed": profile.points_owed,
                "held": min(holds.held_points(profile, now), buckets.total(live)),
                "expiring": [{"points": p, "expires_on": d} for d, p in sorted(live.items()) if d != buckets.NEVER],
                "pending": pending.view(profile.pending),
            },
            "rfm": _rfm(program, profile, today),
            "paid_cards": [
                card_view(program.card_plan(plan_id), card)
                for plan_id, card in sorted(profile.paid_cards.items())
                if card.active_until > now  # ended, even before the sweep has run
            ],
            "tags": profile.tags,
            "wallets": wallets.view(program, profile, today),
            "counters": counters.view(program, profile, today),
            "checkouts": [
                {"checkout_id": cid, "expires_at": h.expires_at, "points": h.points, "coupon_ids": h.coupon_ids}
                for cid, h in sorted(holds.open_holds(profile, now).items(), key=lambda kv: (kv[1].expires_at, kv[0]))
            ],
            "blocked": profile.blocked.model_dump() if profile.blocked else None,
            "flags": [f.model_dump() for f in profile.flags],
        }
    )


def _rfm(program: Program, profile: Profile, today: date) -> dict[str, Any] | None:
    if program.rfm is None:
        return None
    found = rfm.scores(program.rfm, profile, today, program.zone)
    r, f, m = found if found else (None, None, None)
    return {"recency": r, "frequency": f, "monetary": m, "segment": rfm.segment_of(program, profile, today)}


def card_view(plan: PaidCardPlan | None, card: Card) -> CardView:
    return CardView.model_validate(
        {
            "plan_id": card.plan_id,
            "active_from": clock.iso(card.active_from),
            "active_until": clock.iso(card.active_until),
            "kind": plan.kind if plan else None,
            "cycles_issued": card.cycles_issued,
        }
    )


def member_view(store: Store, program_id: str, member_id: str, now: datetime) -> MemberView:
    program = programs.load(store, program_id)
    return view(program, pipeline.existing(store, program_id, member_id), now)


Page = tuple[Sequence[BaseModel], dict[str, Any] | None]


def _page(
    store: Store,
    program_id: str,
    member_id: str,
    cursor: str | None,
    prefix: str,
    read: Callable[[dict[str, Any] | None], Page],
) -> dict[str, Any]:
    """A newest-first page of the member's `prefix` items: {entries, next_cursor}."""
    programs.load(store, program_id)
    start = None
    if cursor:
        start = store.ledger_cursor(program_id, member_id, cursor, prefix)
        if start is None:
            raise ValidationFailed.field("cursor", "not a cursor this list returned")
    entries, last = read(start)
    if not entries and start is None:
        pipeline.existing(store, program_id, member_id)  # an empty first page: unknown member, or really empty
    return {"entries": [e.model_dump() for e in entries], "next_cursor": store.encode_cursor(last) if last else None}


def ledger(store: Store, program_id: str, member_id: str, limit: int, cursor: str | None) -> Ledger:
    def read(start: dict[str, Any] | None) -> Page:
        return store.ledger(program_id, member_id, limit, start)

    return Ledger.model_validate(_page(store, program_id, member_id, cursor, "LEDGER#", read))


def notices(store: Store, program_id: str, member_id: str, limit: int, cursor: str | None) -> Notices:
    """The member's notices, newest first (store/keys.notice_sk), each in words: 1 Query a page."""
    program = programs.load(store, program_id)

    def read(start: dict[str, Any] | None) -> Page:
        found, last = store.notices_page(program_id, member_id, limit, start)
        return [NoticeView.model_validate({**n.model_dump(), "text": notice_text(program, n)}) for n in found], last

    page = _page(store, program_id, member_id, cursor, "NOTICE#", read)
    return Notices(notices=page["entries"], next_cursor=page["next_cursor"])


def audit(store: Store, program_id: str, member_id: str, limit: int, cursor: str | None) -> AuditTrail:
    """The member's writes by requests, newest first: 1 Query a page."""

    def read(start: dict[str, Any] | None) -> Page:
        return store.audit(program_id, member_id, limit, start)

    return AuditTrail.model_validate(_page(store, program_id, member_id, cursor, "AUDIT#", read))


def coupons(store: Store, program_id: str, member_id: str, status: str | None, now: datetime) -> Coupons:
    programs.load(store, program_id)
    wallet = store.coupons(program_id, member_id)
    if not wallet:
        pipeline.existing(store, program_id, member_id)
    return Coupons(coupons=coupon_views(wallet, now, status))
