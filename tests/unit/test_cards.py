"""Paid cards as pure rules: buying, extending across month ends, cycles, the end, refunds, pricing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty.errors import NotFound, RefundNotAllowed
from loyalty.member import Coupon, Profile
from loyalty.program import Program, problems
from loyalty.rules import cards, earning, pricing
from loyalty.rules.posting import Change
from tests.support import program

DOC = program("paid-card")
PAID = Program.model_validate(DOC)
PLUS = PAID.card_plan("plus-quarter")  # identity: 3 months, a cycle a month
STARTER = PAID.card_plan("starter-pack")  # light: a one-time pack
DELIVERY = PAID.card_plan("delivery-month")  # identity, scene "delivery"
assert PLUS and STARTER and DELIVERY
# Asia/Shanghai is UTC+8: 2026-01-31 10:00 local.
JAN31 = datetime(2026, 1, 31, 2, tzinfo=UTC)


def fresh(at: datetime = JAN31) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=at - timedelta(days=100))


def step(profile: Profile, at: datetime, act: Any = None, program_: Program = PAID) -> Change:
    """One write: what `act` does to a fresh Change, then the scheduled `cards` settle, as the store
    would commit it (the next step starts from the result)."""
    change = Change.start(program_, profile, at)
    if act is not None:
        act(change)
    cards.settle(change)
    return change


def local_day(at: datetime) -> str:
    return at.astimezone(PAID.zone).date().isoformat()


def test_a_new_identity_card_gives_its_pack_and_first_cycle_at_once() -> None:
    change = step(fresh(), JAN31, lambda c: cards.buy(c, PLUS, "pay-1", 4500, JAN31))
    card = change.profile.paid_cards["plus-quarter"]
    assert local_day(card.active_until) == "2026-04-30"  # three months from Jan 31, clamped to April's end
    assert card.cycles_issued == 1
    sources = sorted({c.source for c in change.coupons})
    assert sources == ["card:plus-quarter:2026-01-31T02:00:00+00:00:cycle0", "card:plus-quarter:pay-1"]
    assert len(change.coupons) == 1 + 3
    assert card.payments[0].coupon_ids == [c.coupon_id for c in change.coupons]
    assert [n.kind for n in change.notices] == ["card_purchased", "card_cycle_issued"]


def test_extension_counts_months_from_the_start_so_month_ends_do_not_drift() -> None:
    monthly = PAID.model_copy(update={"paid_cards": [DELIVERY]})
    profile = step(fresh(), JAN31, lambda c: cards.buy(c, DELIVERY, "p1", 1500, JAN31), monthly).profile
    assert local_day(profile.paid_cards["delivery-month"].active_until) == "2026-02-28"  # Jan 31 + 1 month
    extended: list[bool] = []
    second = datetime(2026, 2, 20, tzinfo=UTC)
    profile = step(
        profile, second, lambda c: extended.append(cards.buy(c, DELIVERY, "p2", 1500, second)[1]), monthly
    ).profile
    assert extended == [True]
    card = profile.paid_cards["delivery-month"]
    assert local_day(card.active_until) == "2026-03-31"  # Jan 31 + 2 months, not Feb 28 + 1 month
    assert card.active_from == JAN31 and card.months == 2


def test_a_card_bought_after_the_last_one_ended_starts_afresh() -> None:
    monthly = PAID.model_copy(update={"paid_cards": [DELIVERY]})
    profile = step(fresh(), JAN31, lambda c: cards.buy(c, DELIVERY, "p1", 1500, JAN31), monthly).profile
    later = datetime(2026, 3, 5, tzinfo=UTC)
    extended: list[bool] = []
    change = step(profile, later, lambda c: extended.append(cards.buy(c, DELIVERY, "p2", 1500, later)[1]), monthly)
    card = change.profile.paid_cards["delivery-month"]
    assert extended == [False] and card.active_from == later and card.months == 1
    assert [n.kind for n in change.notices] == ["card_expired", "card_purchased", "card_cycle_issued"]


def test_each_cycle_is_issued_once_when_it_starts_and_the_card_ends_with_notices() -> None:
    profile = step(fresh(), JAN31, lambda c: cards.buy(c, PLUS, "pay-1", 4500, JAN31)).profile
    cycle1 = cards.cycle_start(PAID, profile.paid_cards["plus-quarter"], PLUS, 1)
    assert local_day(cycle1) == "2026-02-28"
    assert step(profile, cycle1 - timedelta(seconds=1)).coupons == []  # not started yet
    change = step(profile, cycle1)
    assert len(change.coupons) == 3 and change.profile.paid_cards["plus-quarter"].cycles_issued == 2
    profile = change.profile
    assert step(profile, cycle1 + timedelta(hours=1)).coupons == []  # issued once
    until = profile.paid_cards["plus-quarter"].active_until
    change = step(profile, until - timedelta(days=7))
    assert [n.kind for n in change.notices] == ["card_cycle_issued", "card_expiring"]  # the third cycle, then
    profile = change.profile
    assert step(profile, until - timedelta(days=1)).notices == []  # the notice once
    change = step(profile, until)
    assert [n.kind for n in change.notices] == ["card_expired"] and change.profile.paid_cards == {}


def test_the_next_due_day_is_the_first_of_cycle_notice_and_end() -> None:
    profile = step(fresh(), JAN31, lambda c: cards.buy(c, PLUS, "pay-1", 4500, JAN31)).profile
    assert cards.next_day(PAID, profile).isoformat() == "2026-02-28"
    assert cards.next_day(PAID, fresh()) is None


def test_a_light_card_gives_a_pack_and_no_perks() -> None:
    change = step(fresh(), JAN31, lambda c: cards.buy(c, STARTER, "pay-s", 990, JAN31))
    assert len(change.coupons) == 2 and change.profile.paid_cards["starter-pack"].cycles_issued == 0
    assert cards.perks(PAID, change.profile, JAN31 + timedelta(days=1), None) == []


def test_a_scene_card_perks_apply_to_its_scene_and_its_coupons_carry_it() -> None:
    change = step(fresh(), JAN31, lambda c: cards.buy(c, DELIVERY, "p1", 1500, JAN31))
    soon = JAN31 + timedelta(days=1)
    assert [p.id for p in cards.perks(PAID, change.profile, soon, "delivery")] == ["delivery-month"]
    assert cards.perks(PAID, change.profile, soon, None) == []
    assert {c.scene for c in change.coupons} == {"delivery"}
    day = soon.astimezone(PAID.zone).date()
    assert earning.multipliers(PAID, change.profile, soon, day, "delivery") == {"card:delivery-month": 2}


# ---- refunds -------------------------------------------------------------------------------------


def bought() -> tuple[Profile, list[Coupon]]:
    change = step(fresh(), JAN31, lambda c: cards.buy(c, PLUS, "pay-1", 4500, JAN31))
    return change.profile, change.coupons


def test_a_refund_nets_out_what_was_used_and_revokes_the_rest() -> None:
    profile, coupons = bought()
    used = coupons[-1].model_copy(update={"status": "used"})  # the free coffee, face value 2800
    later = JAN31 + timedelta(days=2)
    change = Change.start(PAID, profile, later)
    outcome = cards.refund(change, PLUS, None, [*coupons[:-1], used], later)
    assert outcome.used_minor == 2800 and outcome.refund_minor == 4500 - 2800
    assert sorted(outcome.revoke) == sorted(c.coupon_id for c in coupons[:-1])
    assert change.profile.paid_cards == {}  # nothing paid for is left


def test_a_refund_never_goes_below_zero() -> None:
    profile, coupons = bought()
    spent = [c.model_copy(update={"status": "used"}) for c in coupons]
    outcome = cards.refund(Change.start(PAID, profile, JAN31), PLUS, "pay-1", spent, JAN31)
    assert outcome.refund_minor == 0 and outcome.revoke == []


def test_refunds_outside_the_window_twice_or_of_an_earlier_payment_are_refused() -> None:
    profile, coupons = bought()
    late = JAN31 + timedelta(days=PLUS.refund_days, seconds=1)
    with pytest.raises(RefundNotAllowed):
        cards.refund(Change.start(PAID, profile, late), PLUS, "pay-1", coupons, late)
    again = JAN31 + timedelta(days=1)
    profile = step(profile, again, lambda c: cards.buy(c, PLUS, "pay-2", 4500, again)).profile
    with pytest.raises(RefundNotAllowed, match="later payment"):
        cards.refund(Change.start(PAID, profile, again), PLUS, "pay-1", coupons, again)
    change = Change.start(PAID, profile, again)
    outcome = cards.refund(change, PLUS, "pay-2", [], again)  # the extension: the card keeps its first span
    assert outcome.payment.payment_id == "pay-2"
    assert local_day(change.profile.paid_cards["plus-quarter"].active_until) == "2026-04-30"
    with pytest.raises(RefundNotAllowed, match="refunded already"):
        cards.refund(Change.start(PAID, change.profile, again), PLUS, "pay-2", [], again)
    with pytest.raises(NotFound):
        cards.refund(Change.start(PAID, fresh(), again), PLUS, None, [], again)


def test_points_a_card_granted_are_taken_back_and_spent_ones_count_as_used() -> None:
    plan = PLUS.model_copy(update={"on_purchase": PLUS.on_purchase.model_copy(update={"points": 500})})
    program_ = PAID.model_copy(update={"paid_cards": [plan]})
    profile = step(fresh(), JAN31, lambda c: cards.buy(c, plan, "pay-1", 4500, JAN31), program_).profile
    assert profile.balance == 500
    spend = Change.start(program_, profile, JAN31)
    spend.debit("redeem", 300, JAN31, "r")
    change = Change.start(program_, spend.profile, JAN31)
    outcome = cards.refund(change, plan, None, [], JAN31)
    assert outcome.points_reversed == 200 and change.balance == 0
    assert outcome.used_minor == 300  # the 300 spent points, at 100 points = 100 minor


# ---- validation and pricing ----------------------------------------------------------------------


def doc_with(**plan: Any) -> dict[str, Any]:
    doc = copy.deepcopy(DOC)
    doc["paid_cards"][0].update(plan)
    return doc


def test_a_light_card_with_perks_or_too_many_coupons_is_a_problem() -> None:
    doc = copy.deepcopy(DOC)
    doc["paid_cards"][1]["earn_multiplier"] = 2
    doc["paid_cards"][0].update(period_months=12, every_cycle={"coupons": ["ship-free"] * 8})
    found = {p["field"] for p in problems(Program.model_validate(doc))}
    assert found == {"paid_cards[1].earn_multiplier", "paid_cards[0].every_cycle"}


def test_the_shipped_paid_card_template_prices_without_warnings() -> None:
    assert pricing.warnings(PAID) == []


def test_pricing_warns_when_a_cycle_is_worth_less_than_the_price_or_the_price_is_over_the_aov() -> None:
    warned = pricing.warnings(Program.model_validate(doc_with(price_minor=6000)))
    assert [w["field"] for w in warned] == ["paid_cards[0].price_minor"] * 2
    no_aov = copy.deepcopy(DOC)
    del no_aov["expected_average_order_minor"]
    assert [w["field"] for w in pricing.warnings(Program.model_validate(no_aov))] == ["expected_average_order_minor"]


def test_roi_at_three_redemption_rates() -> None:
    table = {row["plan_id"]: row for row in pricing.roi(PAID)}
    plus = table["plus-quarter"]
    assert plus["benefits_face_minor"] == 1000 + 3 * (800 + 800 + 2800)  # the pack + three cycles
    assert [r["benefits_cost_minor"] for r in plus["rows"]] == [4260, 7100, 11360]
    assert [r["net_minor"] for r in plus["rows"]] == [240, -2600, -6860]
    assert plus["rows"][0]["roi_percent"] == 240 * 100 // 4260
