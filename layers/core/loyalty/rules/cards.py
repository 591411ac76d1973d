"""Paid cards: buying and extending, cycle benefits, the end of a card, and refunds.

A card's months are counted from its start (`active_from` + `months` on the program-local calendar), so
extensions never drift across short months. Cycle k starts `k * cycle_months` after `active_from`; the
first is issued at purchase, later ones by the scheduled engine (the `cards` kind) once they start.
Coupon ids derive from the card and the cycle (or the payment), so nothing is issued twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .. import clock
from ..errors import NotFound, RefundNotAllowed, ValidationFailed
from ..member import Card, CardPayment, Coupon, Notice, Profile
from ..program import Grant, PaidCardPlan, PointValue, Program
from .posting import Change

EXPIRING_NOTICE = timedelta(days=7)
# How late a payment may be confirmed when its plan refunds for less (or never): a day of retries.
LATE_AT_MOST = timedelta(days=1)


def active(card: Card | None, at: datetime) -> bool:
    return card is not None and card.active_from <= at < card.active_until


def perks(program: Program, profile: Profile, at: datetime, scene: str | None) -> list[PaidCardPlan]:
    """Plans of the identity cards whose perks apply to an order at `at` in `scene` (a scene card's
    only to orders of its scene)."""
    return [
        plan
        for plan in program.paid_cards
        if plan.kind == "identity" and active(profile.paid_cards.get(plan.id), at) and plan.scene in (None, scene)
    ]


def cycles_bought(plan: PaidCardPlan, card: Card) -> int:
    """Cycles the card's months pay for (0: the plan has no cycle benefits)."""
    return card.months // (plan.cycle_months or 1) if plan.cycles else 0


def cycle_start(program: Program, card: Card, plan: PaidCardPlan, k: int) -> datetime:
    return clock.add_months_at(card.active_from, k * (plan.cycle_months or 0), program.zone)


def _end(program: Program, card: Card) -> datetime:
    return clock.add_months_at(card.active_from, card.months, program.zone)


def _notice(change: Change, kind: str, key: str, card: Card, coupons: list[Coupon] | None = None) -> None:
    change.notices.append(
        Notice(
            notice_id=f"{kind}.{card.plan_id}.{key}",
            kind=kind,  # type: ignore[arg-type]
            at=change.at,
            plan_id=card.plan_id,
            active_until=card.active_until,
            coupon_ids=[c.coupon_id for c in coupons or []],
        )
    )


def check_paid_at(change: Change, plan: PaidCardPlan, paid_at: datetime) -> None:
    """A back-dated payment is a 422 naming `paid_at` unless it is confirmed within the plan's refund
    window (at least a day), not before the card's start or its latest payment on record (a plan's
    payments are confirmed in the order they were made; within minutes, as concurrent confirmations
    race, either order), and pays for time still to come. Otherwise it
    could never be refunded, would make the card's later payments unrefundable (only the latest is),
    or would bring all of an ended card's cycles at once."""
    late = max(timedelta(days=plan.refund_days), LATE_AT_MOST)
    if paid_at < change.at - late:
        why = f"must be at most {late.days} day(s) before now (the plan's refund window): it could never be refunded"
        raise ValidationFailed.field("paid_at", why)
    card = change.profile.paid_cards.get(plan.id)
    if card is not None:
        last = max([card.active_from, *(x.paid_at for x in card.payments if not x.refunded)])
        if paid_at < last - clock.FUTURE_SLACK:  # payments confirmed at once race: the last to commit is older
            why = f"must not be before the card's start or latest payment ({clock.iso(last)}): confirm them in order"
            raise ValidationFailed.field("paid_at", why)
    if (card is None or card.active_until <= paid_at) and clock.add_months_at(
        paid_at, plan.period_months, change.program.zone
    ) <= change.at:
        raise ValidationFailed.field("paid_at", "the card it pays for would have ended already")


def buy(change: Change, plan: PaidCardPlan, payment_id: str, amount_minor: int, paid_at: datetime) -> tuple[Card, bool]:
    """Start a card, or extend the one of this plan active at `paid_at`: (the card, extended?).

    Each payment brings `on_purchase`; a new identity card also brings its first cycle at once."""
    check_paid_at(change, plan, paid_at)
    p = change.profile
    card = p.paid_cards.get(plan.id)
    extended = card is not None and card.active_until > paid_at
    if card is not None and not extended:
        _notice(change, "card_expired", clock.iso(card.active_until), card)  # ended, not yet swept
    if card is None or not extended:
        card = Card(plan_id=plan.id, active_from=paid_at, active_until=paid_at, months=0)
    payment = CardPayment(
        payment_id=payment_id, amount_minor=amount_minor, paid_at=paid_at, offset=card.months, months=plan.period_months
    )
    card.months += plan.period_months
    card.active_until = _end(change.program, card)
    card.payments.append(payment)
    p.paid_cards[plan.id] = card
    pack = _give(change, plan, payment, plan.on_purchase, f"card:{plan.id}:{payment_id}", "purchase")
    _notice(change, "card_purchased", payment_id, card, pack)
    settle(change)  # the first cycle; a card confirmed after its span ended also ends here
    return card, extended


def _give(
    change: Change, plan: PaidCardPlan, payment: CardPayment | None, grant: Grant | None, source: str, site: str
) -> list[Coupon]:
    """A card's grant, recorded on the payment it belongs to so that a refund can take it back;
    `site` ("purchase" or "cycle") names its budget with the plan."""
    if grant is None:
        return []
    before = len(change.entries)
    coupons = change.grant(grant, "bonus", change.at, source, budget=f"card:{plan.id}:{site}", scene=plan.scene)
    if payment is not None:
        payment.points += sum(e.points for e in change.entries[before:])  # 0 when its budget is spent
        payment.coupon_ids += [c.coupon_id for c in coupons]
    return coupons


def _owner(card: Card, month: int) -> CardPayment | None:
    """The payment that bought the card's `month` (None when its record was pruned)."""
    return next((x for x in card.payments if not x.refunded and x.offset <= month < x.offset + x.months), None)


def settle(change: Change) -> None:
    """The `cards` kind: cycles that have started, the expiring-soon notice, the end of a card.
    Payments whose refund window has closed are dropped, so a card's record stays small."""
    program, p, at = change.program, change.profile, change.at
    for plan_id, card in sorted(p.paid_cards.items()):
        plan = program.card_plan(plan_id)
        if plan is not None:
            while (
                card.cycles_issued < cycles_bought(plan, card)
                and cycle_start(program, card, plan, card.cycles_issued) <= at
            ):
                k = card.cycles_issued
                owner = _owner(card, k * (plan.cycle_months or 0))
                source = f"card:{plan.id}:{clock.iso(card.active_from)}:cycle{k}"
                coupons = _give(change, plan, owner, plan.every_cycle, source, "cycle")
                _notice(change, "card_cycle_issued", f"{clock.iso(card.active_from)}.{k}", card, coupons)
                card.cycles_issued += 1
        if at >= card.active_until:
            _notice(change, "card_expired", clock.iso(card.active_until), card)
            del p.paid_cards[plan_id]
            continue
        if at >= card.active_until - EXPIRING_NOTICE and card.expiry_noticed != card.active_until:
            _notice(change, "card_expiring", clock.iso(card.active_until), card)
            card.expiry_noticed = card.active_until
        window = timedelta(days=plan.refund_days if plan else 0)
        card.payments = [x for x in card.payments if x.paid_at + window >= at]


def next_day(program: Program, profile: Profile) -> date | None:
    """The first program-local day something is due for any card: a cycle, the notice, the end."""
    times: list[datetime] = []
    for plan_id, card in profile.paid_cards.items():
        plan = program.card_plan(plan_id)
        if plan is not None and card.cycles_issued < cycles_bought(plan, card):
            times.append(cycle_start(program, card, plan, card.cycles_issued))
        if card.expiry_noticed != card.active_until:
            times.append(card.active_until - EXPIRING_NOTICE)
        times.append(card.active_until)
    return clock.local_date(min(times), program.zone) if times else None


# ---- refunds -----------------------------------------------------------------------------------


def face_value(coupon: Coupon) -> int:
    """What a used coupon gave the member: its face value, or what it took off the order."""
    if coupon.kind == "percent_off":
        return coupon.discount_minor or 0
    return coupon.value_minor


def points_worth(value: PointValue, points: int) -> int:
    return -(-points * value.worth_minor // value.points)  # rounded up: in the merchant's favour


@dataclass
class RefundOutcome:
    payment: CardPayment
    refund_minor: int
    used_minor: int
    points_reversed: int
    revoke: list[str]  # unused coupons of the payment, taken back


def refundable(profile: Profile, plan_id: str, payment_id: str | None) -> tuple[Card, CardPayment]:
    """The card and the payment a refund is for (by default the card's latest payment)."""
    card = profile.paid_cards.get(plan_id)
    if card is None:
        raise NotFound(f"no active card of plan {plan_id!r}", [{"field": "plan_id", "message": "no active card"}])
    live = [x for x in card.payments if not x.refunded]
    payment = next((x for x in card.payments if x.payment_id == payment_id), None) if payment_id else None
    if payment_id is None and live:
        payment = live[-1]
    if payment is None:
        raise RefundNotAllowed(
            "no refundable payment on this card (unknown, or its refund window has closed)",
            [{"field": "payment_id", "message": "not refundable"}],
        )
    return card, payment


def refund(
    change: Change, plan: PaidCardPlan, payment_id: str | None, coupons: list[Coupon], at: datetime
) -> RefundOutcome:
    """Take back one payment: the money net of the benefits already used, its unused coupons and the
    points it granted (as far as the balance allows; points already spent count as used)."""
    p = change.profile
    card, payment = refundable(p, plan.id, payment_id)
    if payment.refunded:
        raise RefundNotAllowed("this payment was refunded already", [{"field": "payment_id", "message": "refunded"}])
    if at > payment.paid_at + timedelta(days=plan.refund_days):
        raise RefundNotAllowed(
            f"the refund window of {plan.refund_days} days has closed",
            [{"field": "payment_id", "message": "refund window closed", "refund_days": plan.refund_days}],
        )
    if payment.offset + payment.months != card.months:
        raise RefundNotAllowed(
            "a later payment extends this card: refund that one first",
            [{"field": "payment_id", "message": "not the latest payment"}],
        )
    mine = [c for c in coupons if c.coupon_id in payment.coupon_ids]
    used_minor = sum(face_value(c) for c in mine if c.status == "used")
    revoke = [c.coupon_id for c in mine if c.status == "available" and c.valid_until > at]
    taken = min(payment.points, change.balance)
    change.debit("reverse", taken, at, f"card_refund:{payment.payment_id}", f"card refund of plan {card.plan_id}")
    used_minor += points_worth(change.program.points.value, payment.points - taken) if payment.points > taken else 0
    payment.refunded = True
    card.months -= payment.months
    card.cycles_issued = min(card.cycles_issued, cycles_bought(plan, card))
    card.active_until = _end(change.program, card)
    _notice(change, "card_refunded", payment.payment_id, card)
    if card.months == 0 or card.active_until <= at:
        del p.paid_cards[plan.id]  # nothing paid for is left: the card ends now
    return RefundOutcome(
        payment=payment,
        refund_minor=max(0, payment.amount_minor - used_minor),
        used_minor=used_minor,
        points_reversed=taken,
        revoke=revoke,
    )
