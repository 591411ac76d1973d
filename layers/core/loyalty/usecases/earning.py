"""Earning: purchases, refunds and behaviour activities, each exactly once per client id."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .. import clock
from ..errors import CouponUnavailable, LoyaltyError, NotFound, ValidationFailed
from ..member import Coupon, Profile
from ..program import Program
from ..rules import (
    abuse,
    campaigns,
    counting,
    earning,
    experiments,
    growth,
    pending,
    posting,
    referral,
    referral_cancel,
    refunds,
    spending,
    tiers,
    wallets,
)
from ..rules.posting import Change
from ..schemas import (
    Activity,
    ActivityResult,
    Purchase,
    PurchaseResult,
    QuoteResult,
    Refund,
    RefundResult,
    line_ids,
)
from ..store import CouponRestore, CouponRevoke, MemberWrite, RefUpdate, Stale, Store
from . import programs, shadows
from .pipeline import Attempt, Built, Outcome, RefKey, missing, once
from .referral import refund_cancelled

# The clocks' drift (clock.FUTURE_SLACK) the other way, and the till's "pay, join, then post the
# order": a purchase paid up to this long before the enrolment counts as paid at it. Earlier, it was
# not a member's purchase.
ENROLMENT_SLACK = clock.FUTURE_SLACK


def member_time(paid_at: datetime, profile: Profile, field: str = "paid_at") -> datetime:
    """When a purchase (an activity: `field` "at") counts as made: never before the enrolment, so no tier,
    bucket or ledger entry predates the member. A refusal happens before anything is written (the rules
    run before the commit)."""
    if paid_at >= profile.enrolled_at:
        return paid_at
    if paid_at < profile.enrolled_at - ENROLMENT_SLACK:
        enrolled = clock.iso(profile.enrolled_at)
        raise ValidationFailed(
            f"{field}: before the member's enrolment ({enrolled})",
            [
                {
                    "field": field,
                    "message": f"must not be before the member's enrolment ({enrolled})",
                    "enrolled_at": enrolled,
                }
            ],
        )
    return profile.enrolled_at


def evaluate_purchase(
    program: Program, profile: Profile, body: Purchase, sent_paid_at: datetime, now: datetime, exhausted: set[str]
) -> tuple[Change, dict[str, Any], dict[str, Any]]:
    """A purchase's rules on the member: the Change, the result and the facts the order's reference
    keeps. The write commits it; a quote only shows it."""
    paid_at = member_time(sent_paid_at, profile)
    change = Change.start(program, profile, now, exhausted)
    result, facts = apply_purchase(change, body, paid_at)
    return change, result, facts


def _order_points(
    change: Change, body: Purchase, paid_at: datetime, day: date
) -> tuple[dict[str, Decimal], dict[str, Any], int, str | None]:
    """The order's factors, base points and first-order bonus; past a daily abuse limit (or for a
    blocked member's quote), none, and the limit that withheld them."""
    program = change.program
    factors = earning.multipliers(program, change.profile, paid_at, day, body.scene)
    explained = earning.breakdown(program, body.amount_minor, factors, earning.combined(program, factors))
    bonus = earning.first_order_bonus(program, change.profile, paid_at, amount_minor=body.amount_minor)
    limit, explained, bonus = abuse.on_order(change, explained, bonus)
    return factors, explained, bonus, limit


def apply_purchase(change: Change, body: Purchase, paid_at: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """A purchase's rules on a started Change (a checkout's confirm has spent its points on it first):
    the result and the facts the order's reference keeps."""
    program, p = change.program, change.profile
    day = clock.local_date(paid_at, program.zone)
    factors, explained, bonus, limit = _order_points(change, body, paid_at, day)
    earned = explained["earned"]
    ref = f"order:{body.order_id}"
    change.defer_until = pending.available_on(program, paid_at)  # the order's own points wait out the return window
    change.earned_on = change.defer_until or day  # earned when paid (spendable), however late it is posted
    change.credit("earn", earned, paid_at, ref)
    change.credit("bonus", bonus, paid_at, ref, "first_order")
    converted = referral.convert(change, day, paid_at, ref, body.amount_minor)  # pending like the order's
    items = [i.model_dump() for i in body.items or []]
    order = campaigns.order(program, body.amount_minor, items, factors, body.store_id, body.channel, body.scene)
    event = campaigns.Event("purchase", paid_at, ref, order=order)
    counted = counting.measure(change, event)  # before the campaigns: they read the counts before the order
    experiments.attribute(p, body.amount_minor, paid_at)  # before: the order exposing a member is not after it
    applied = campaigns.run(change, event) if limit is None else []
    counting.add(change, counted)
    change.defer_until = change.earned_on = None
    extra = sum(a.points for a in applied)
    abuse.count_order(change, earned + bonus + extra, limit)

    month = clock.month_key(day)
    earning.record_purchase(change, body.amount_minor, paid_at, month)
    from_tier = p.tier_id
    reached = tiers.upgrade(change, lambda level: tiers.upgrade_source(level.id, body.order_id))
    upgrade_points = sum(e.points for e in change.entries if e.ref and e.ref.startswith("upgrade:"))
    facts = {
        "order_minor": body.amount_minor,
        "order_points": earned + bonus + extra,  # a refund reverses campaign points in proportion too
        "order_month": month,
        "paid_at": clock.iso(paid_at),  # no refund of it dated before (rules/refunds.refund_time)
        "refunded_minor": 0,
        "points_reversed": 0,
        "order_growth": change.growth,  # the order's and its campaigns': a refund takes it back in proportion
        "growth_reversed": 0,
        "order_facts": campaigns.recorded(order, line_ids(body.items)),  # what its refunds see
        **campaigns.given(change, applied, ref),  # what its campaigns gave, for what a refund takes back
        **counting.recorded(counted),  # what it counted, for what a refund takes back
        **referral_cancel.order_facts(change, converted),  # its refund in the window cancels the rewards
    }
    if reached:  # so that a refund of this order can undo the upgrade and take back its gift
        facts["upgrade"] = tiers.order_upgrade(change, from_tier, reached, body.order_id)
    # The campaigns the upgrade sets off, here rather than at the commit so that the answer says what
    # they gave; like the upgrade's gift, they are not part of the order's points or growth.
    followed = campaigns.after(change)
    facts |= refunds.followed(facts, [(a.campaign_id, a.points) for a in followed])  # a refund reverses them too
    result = {
        "order_id": body.order_id,
        "points_earned": earned + bonus + extra + upgrade_points + sum(a.points for a in followed),
        "breakdown": explained | {"first_order_bonus": bonus, "campaigns": campaigns.view(applied + followed)},
        "balance": change.balance,
        "tier": p.tier_id,
        "tier_changed": p.tier_id != from_tier,
        "coupons": [c.model_dump(mode="json") for c in change.coupons],
        "growth": change.growth,
    }
    return result, facts


def purchase(store: Store, program_id: str, member_id: str, body: Purchase, now: datetime) -> Outcome[PurchaseResult]:
    program = programs.load(store, program_id)
    sent_paid_at = clock.event_time(body.paid_at, "paid_at", now)
    run = programs.shadow(store, program_id, now)  # read with the program

    def build(profile: Profile, attempt: Attempt) -> Built[PurchaseResult]:
        abuse.refuse_blocked(profile)
        change, result, facts = evaluate_purchase(program, profile, body, sent_paid_at, now, attempt.exhausted)
        if run is not None:

            def draft(other: Program) -> tuple[Change, int]:
                c, r, _ = evaluate_purchase(other, profile, body, sent_paid_at, now, attempt.exhausted)
                return c, r["points_earned"]

            facts["shadow"] = shadows.observe(run, (change, result["points_earned"]), draft)
        write = MemberWrite(change=change, expected_version=profile.version)
        return Built(write, PurchaseResult.model_validate(result), facts)

    return once(store, program_id, RefKey("order", body.order_id, member_id), body, PurchaseResult, build)


def quote(store: Store, program_id: str, member_id: str, body: Purchase, now: datetime) -> QuoteResult:
    """What the purchase would give, written nowhere (a till's or a cart's "you will earn N points"):
    the same rules as the purchase, and the coupons usable on it. The budgets the purchase may take
    (its campaigns', the campaigns' of a tier change, the upgrade gifts') come with the profile, so a
    spent one leaves out what it would pay for, as the purchase's transaction does. The profile and the
    wallet are items of the member's partition that no one key range holds together, so they are read
    in parallel: one round trip."""
    program = programs.load(store, program_id)
    sent_paid_at = clock.event_time(body.paid_at, "paid_at", now)
    budgets = purchase_budget_keys(program, clock.local_date(now, program.zone))
    with ThreadPoolExecutor(max_workers=1) as pool:
        wallet = pool.submit(store.coupons, program_id, member_id)
        profile, taken = store.get_member_and_budgets(program_id, member_id, budgets)
        coupons = wallet.result()
    if profile is None:
        raise missing(member_id)
    result = within_budgets(program, profile, body, sent_paid_at, now, taken)
    usable = []
    for coupon in coupons:
        try:
            off = spending.discount(coupon, body.amount_minor, now, body.scene)
        except CouponUnavailable:
            continue
        usable.append({**coupon.model_dump(mode="json"), "discount_minor": off})
    return QuoteResult.model_validate({**result, "usable_coupons": usable})


def within_budgets(
    program: Program, profile: Profile, body: Purchase, sent_paid_at: datetime, now: datetime, taken: dict[str, int]
) -> dict[str, Any]:
    """What a purchase would answer, written nowhere, against the budgets as read (`taken`): the
    purchase's retries (pipeline.retry) without the transaction, for a quote and a checkout's
    `points_to_earn`."""
    exhausted: set[str] = set()
    while True:
        change, result, _ = evaluate_purchase(program, profile, body, sent_paid_at, now, exhausted)
        spent = change.overspent(taken)
        if not spent:
            return result | {"campaigns_skipped": campaigns.skipped(change, result["breakdown"]["campaigns"])}
        exhausted |= spent


def purchase_budget_keys(program: Program, today: date) -> list[str]:
    """The budgets a purchase may take: its campaigns', the campaigns' of a tier change and of the tags
    it adds, the upgrade gifts'."""
    budgets = campaigns.budget_keys(program, ("purchase", "tier_changed", "tag_added"))
    return budgets + posting.upgrade_budget_keys(program, today)


RefundState = tuple[Profile | None, dict[str, Any] | None, dict[str, Coupon]]  # the profile, the order, its coupons


def _refund_state(store: Store, program: Program, program_id: str, member_id: str, body: Refund) -> RefundState:
    """The profile, the order's reference and the upgrade gifts it may have given, in one round trip;
    a refund that completes an order whose reference lists coupons (used on it, given by its
    campaigns) reads those too: one more round trip, only then."""
    ids = tiers.upgrade_coupon_ids(program, member_id, body.order_id)
    profile, order, coupons = store.get_member_ref_and_coupons(program_id, member_id, "order", body.order_id, ids)
    if order is None or order.get("member_id") != member_id:
        return profile, order, {c.coupon_id: c for c in coupons}
    # Gifts recorded under another program version than today's, or with ids from before ids named
    # the member (README: coupon ids).
    recorded = {c for lvl in (order.get("upgrade") or {}).get("levels", []) for c in lvl["coupons"]}
    try:
        used, given = refunds.coupons_back(order, _refunded(order, body))
    except LoyaltyError:
        used, given = [], []  # refused: build says why
    more = sorted((recorded | set(used) | set(given) | set(referral_cancel.coupon_ids(order))) - set(ids))
    if more:
        coupons += store.get_coupons(program_id, member_id, more)
    return profile, order, {c.coupon_id: c for c in coupons}


def _own_order(order: dict[str, Any] | None, member_id: str, body: Refund) -> dict[str, Any]:
    """The order refunded: 404 for none, or another member's."""
    if order is None or order["member_id"] != member_id:
        raise NotFound(
            f"order {body.order_id!r} not found for this member", [{"field": "order_id", "message": "unknown order"}]
        )
    return order


def _refunded(order: dict[str, Any], body: Refund) -> refunds.Refunded:
    """Where the order stands after this refund, by amount or by lines (422, 409 for too much)."""
    if body.items is not None:
        return refunds.by_lines(order, [(i.line_id, i.quantity) for i in body.items])
    return refunds.by_amount(order, body.amount_minor or 0)


def _coupons_back(
    order: dict[str, Any], r: refunds.Refunded, coupons: dict[str, Coupon], order_id: str, at: datetime
) -> tuple[list[str], list[str]]:
    """A full refund: the coupons the order used that are still valid (available again) and the
    unused, unrevoked ones its campaigns gave (revoked)."""
    used, given = refunds.coupons_back(order, r)
    back = [
        cid
        for cid in used
        if (c := coupons.get(cid)) and c.status == "used" and c.used_order_id == order_id and c.valid_until > at
    ]
    revoke = [cid for cid in given if (c := coupons.get(cid)) and c.status == "available" and c.revoked_at is None]
    return back, revoke


def _order_update(
    order: dict[str, Any],
    order_id: str,
    r: refunds.Refunded,
    owed: int,
    by_campaign: dict[str, int],
    growth_reversed: int,
    paid_handled: dict[str, int],
) -> RefUpdate:
    """What the order's reference keeps of its refunds so far: what the next one builds on."""
    reversed_by = dict(order.get("campaigns_reversed") or {})
    for cid, n in by_campaign.items():
        reversed_by[cid] = int(reversed_by.get(cid, 0)) + n
    return RefUpdate(
        kind="order",
        ref_id=order_id,
        set={
            "refunded_minor": r.refunded_minor,
            "points_reversed": order["points_reversed"] + owed,
            "growth_reversed": growth_reversed,
            "amount_refunded_minor": r.by_amount_minor,
            "lines_refunded": r.units,
            "lines_refunded_minor": r.line_minor,
            "campaigns_reversed": reversed_by,
            "paid_restored": paid_handled,
        },
        # Every refund moves one of these (an amount, or units): a racing one fails here.
        expect={"refunded_minor": order["refunded_minor"], "lines_refunded": order.get("lines_refunded")},
    )


def refund(store: Store, program_id: str, member_id: str, body: Refund, now: datetime) -> Outcome[RefundResult]:
    """Points and growth come back in proportion to the refunded share (cumulatively over partial
    refunds; points on items with their lines), the points the order was paid with are given back
    in proportion, and the spend leaves tier qualification. Points already spent are not clawed
    below zero. A refund that takes the metric under the tier its order gave undoes that upgrade and
    its gift (tiers.undo_upgrade); a full one gives back the coupons the order used and takes back
    the unused ones its campaigns gave."""
    program = programs.load(store, program_id)
    refunded_at = clock.event_time(body.refunded_at, "refunded_at", now)

    def read() -> RefundState:
        return _refund_state(store, program, program_id, member_id, body)

    unreturned: list[bool] = []  # a budget found holding less than a return: the refund goes on without

    def on_stale(stale: Stale, write: MemberWrite) -> None:
        if any(label.startswith("budget_return:") for label in stale.failed):
            unreturned.append(True)

    def build(state: RefundState, attempt: Attempt) -> Built[RefundResult]:
        profile, found, coupons = state
        if profile is None:
            raise missing(member_id)
        order = _own_order(found, member_id, body)
        r = _refunded(order, body)
        at = refunds.refund_time(order, refunded_at)
        change = Change.start(program, profile, now, attempt.exhausted)
        cancelled = referral_cancel.refunded(change, order, at, coupons)  # it converted a referral in its window
        built = _refund_write(change, profile.version, order, r, coupons, body, at)
        refund_cancelled(built, cancelled, at)
        if unreturned:
            built.write.budget_returns = {}
        return built

    ref = RefKey("refund", body.refund_id, member_id)
    return once(store, program_id, ref, body, RefundResult, build, read, on_stale)


def _growth_back(change: Change, order: dict[str, Any], r: refunds.Refunded) -> tuple[int, int]:
    """(growth reversed before, this refund's): an order of 0 gave no growth by its money."""
    if not order["order_minor"]:
        return int(order.get("growth_reversed", 0)), 0
    return growth.refund(change, order, r.refunded_minor)


def _refund_write(
    change: Change,
    version: int,
    order: dict[str, Any],
    r: refunds.Refunded,
    coupons: dict[str, Coupon],
    body: Refund,
    at: datetime,
) -> Built[RefundResult]:
    """The refund's rules on the member, in order: the points paid with given back, the order's points
    taken back, the refund's campaigns, the spend, growth and upgrade undone, the coupons of a full one."""
    program, ref, reason = change.program, f"refund:{body.refund_id}", f"refund of order {body.order_id}"
    restored, lapsed, paid_handled = refunds.restore_paid(change, order, r, at, ref, reason)
    owed, by_campaign = refunds.points_owed(order, r)
    cancelled, taken = earning.take_back(change, body.order_id, owed, at, ref, *refunds.by_part(order, by_campaign))
    wallets_back, wallets_handled = wallets.reverse(change, order, r, ref, reason)
    refunded = campaigns.refunded(program, refunds.refunded_facts(order, r), r.amount_minor)
    applied = campaigns.run(change, campaigns.Event("refund", at, ref, order=refunded))
    counted_back = counting.take_back(change, order, r)  # after the refund's campaigns read the counts
    p = change.profile
    before = tiers.metric(program.tiers, p, change.today) if program.tiers is not None else 0
    from_tier = p.tier_id
    earning.record_refund(change, order["order_month"], r.amount_minor, r.full)
    growth_before, growth_owed = _growth_back(change, order, r)
    undone = tiers.undo_upgrade(change, order.get("upgrade"), coupons, before, ref, at)
    unrecovered = owed - cancelled - taken + (undone.points_unrecovered if undone else 0)
    p.points_owed += unrecovered  # spent already: what is given back later settles it first (Change.restore)
    back, revoked = _coupons_back(order, r, coupons, body.order_id, at)
    update = _order_update(order, body.order_id, r, owed, by_campaign, growth_before + growth_owed, paid_handled)
    budgets_back = _also_kept(update, change, order, r, wallets_handled, counted_back, undone)
    applied += campaigns.after(change)  # what the undone upgrade set off, in the answer too
    revoke_ids = (undone.revoke if undone else []) + revoked
    result = {
        "refund_id": body.refund_id,
        "order_id": body.order_id,
        "amount_minor": r.amount_minor,
        "points_reversed": taken + (undone.points_reversed if undone else 0),
        "balance": change.balance,
        "pending_cancelled": cancelled,
        "points_unrecovered": unrecovered,
        "points_restored": restored,
        "points_lapsed": lapsed,
        "tier": p.tier_id,
        "tier_changed": p.tier_id != from_tier,
        "coupons_restored": back,
        "coupons_revoked": revoke_ids,
        "coupons_unrecovered": undone.unrecovered if undone else [],
        "growth_reversed": growth_owed,
        **wallets_back,
        "campaigns": campaigns.view(applied),
    }
    write = MemberWrite(
        change=change,
        expected_version=version,
        ref_updates=[update],
        revoke=CouponRevoke(revoke_ids, clock.iso(at)) if revoke_ids else None,
        restore=CouponRestore(back, body.order_id) if back else None,
        budget_returns=budgets_back or {},
    )
    return Built(write, RefundResult.model_validate(result), {"order_id": body.order_id})


def _also_kept(
    update: RefUpdate,
    change: Change,
    order: dict[str, Any],
    r: refunds.Refunded,
    wallets_handled: dict[str, Any],
    counted_back: dict[str, int] | None,
    undone: tiers.Undone | None,
) -> dict[str, int] | None:
    """What else the order's reference keeps of this refund (so the next one takes only the rest),
    and the budgets its checkout campaigns get back (None: none, or given back already)."""
    update.set.update({"wallets_reversed": wallets_handled} if wallets_handled else {})
    if counted_back is not None:
        update.set["counters_reversed"] = counted_back
    if undone is not None:
        update.set["upgrade"] = undone.record  # a later refund undoes only the levels still held
    budgets_back = campaigns.checkout_back(change, order, r.full)
    if budgets_back is not None:
        update.set["checkout_returned"] = True
    return budgets_back


def activity(
    store: Store, program_id: str, member_id: str, body: Activity, now: datetime, by_member: bool = False
) -> Outcome[ActivityResult]:
    """`by_member`: reported by the member itself (POST .../me/activities): only a `self_report` type,
    its id in the member's own id space."""
    program = programs.load(store, program_id)
    if by_member:
        earning.check_self_report(program, body.type)
    reported = clock.event_time(body.at, "at", now)
    ref = RefKey("activity", body.activity_id, member_id, by_member)
    run = programs.shadow(store, program_id, now)  # read with the program

    def build(profile: Profile, attempt: Attempt) -> Built[ActivityResult]:
        abuse.refuse_blocked(profile)
        change, result, about = evaluate_activity(program, profile, body, ref, reported, now, attempt.exhausted)
        if run is not None:

            def draft(other: Program) -> tuple[Change, int]:
                c, r, _ = evaluate_activity(other, profile, body, ref, reported, now, attempt.exhausted)
                return c, r.points_earned

            about["shadow"] = shadows.observe(run, (change, result.points_earned), draft)
        # its reference keeps what it was about (object_id, attributes), with its type
        return Built(MemberWrite(change=change, expected_version=profile.version), result, {"type": body.type, **about})

    return once(store, program_id, ref, body, ActivityResult, build)


def evaluate_activity(
    program: Program,
    profile: Profile,
    body: Activity,
    ref: RefKey,
    reported: datetime,
    now: datetime,
    exhausted: set[str],
) -> tuple[Change, ActivityResult, dict[str, Any]]:
    """An activity's rules on the member: the Change, the result and what it was about (its object and
    attributes: its reference keeps them)."""
    at = member_time(reported, profile, "at")
    local = clock.local_date(at, program.zone)
    day = local.isoformat()
    points = earning.activity_points(program, profile, body.type, local)
    streak = earning.streak_days(profile, body.type, local)
    change = Change.start(program, profile, now, exhausted)
    change.earned_on = local  # its points (and its campaigns') are earned on the day it happened
    source = ref.source
    change.credit("activity", points, at, source)
    about = {k: v for k, v in (("object_id", body.object_id), ("attributes", body.attributes)) if v is not None}
    facts = {"type": body.type, "streak_days": streak, "object_id": "", **about}  # no object: "" (rules/limits)
    event = campaigns.Event("activity", at, source, activity=facts)
    counted = counting.measure(change, event)  # before the campaigns: they read the counts before it
    applied = campaigns.run(change, event)
    counting.add(change, counted)
    change.earned_on = None
    earning.record_activity(change, body.type, at, day)
    from_tier = change.profile.tier_id
    growth.upgrade_after_activity(change, lambda level: tiers.upgrade_source(level.id, source))
    gift = sum(e.points for e in change.entries if e.ref and e.ref.startswith("upgrade:"))
    applied += campaigns.after(change)  # what its upgrade set off, in the answer too
    result = ActivityResult.model_validate(
        {
            "activity_id": body.activity_id,
            "points_earned": points + sum(a.points for a in applied) + gift,
            "balance": change.balance,
            "growth": change.growth,
            "tier": change.profile.tier_id,
            "tier_changed": change.profile.tier_id != from_tier,
            "coupons": [c.model_dump(mode="json") for c in change.coupons],
            "streak_days": streak,
            "campaigns": campaigns.view(applied),
        }
    )
    return change, result, about
