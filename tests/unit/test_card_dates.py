"""rules/cards.check_paid_at: which back-dated card payments are taken (a 422 naming paid_at otherwise)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loyalty.errors import ValidationFailed
from loyalty.rules import cards
from loyalty.rules.posting import Change
from tests.unit.test_cards import DELIVERY, JAN31, PAID, PLUS, fresh, step


def refused(change: Change, plan: object, days: float) -> str:
    with pytest.raises(ValidationFailed) as caught:
        cards.buy(change, plan, "p-late", 1, JAN31 - timedelta(days=days))  # type: ignore[arg-type]
    assert [d["field"] for d in caught.value.details] == ["paid_at"]
    return str(caught.value)


def test_a_payment_is_taken_up_to_the_refund_window_late_and_at_least_a_day() -> None:
    cards.buy(Change.start(PAID, fresh(), JAN31), PLUS, "p1", 4500, JAN31 - timedelta(days=PLUS.refund_days))
    assert "refund window" in refused(Change.start(PAID, fresh(), JAN31), PLUS, PLUS.refund_days + 0.01)
    never = PLUS.model_copy(update={"refund_days": 0})
    cards.buy(Change.start(PAID, fresh(), JAN31), never, "p1", 4500, JAN31 - timedelta(hours=23))
    assert "1 day" in refused(Change.start(PAID, fresh(), JAN31), never, 1.01)


def test_a_payment_for_a_card_that_would_have_ended_already_is_refused() -> None:
    yearly = DELIVERY.model_copy(update={"refund_days": 365})  # one month, refundable for a year
    assert "ended already" in refused(Change.start(PAID, fresh(), JAN31), yearly, 40)
    cards.buy(Change.start(PAID, fresh(), JAN31), yearly, "p1", 1500, JAN31 - timedelta(days=20))


def test_a_payment_before_the_cards_latest_is_refused_and_a_refunded_one_does_not_count() -> None:
    profile = step(fresh(), JAN31, lambda c: cards.buy(c, PLUS, "pay-1", 4500, JAN31 - timedelta(days=3))).profile
    assert "in order" in refused(Change.start(PAID, profile, JAN31), PLUS, 4)
    profile = step(profile, JAN31, lambda c: cards.buy(c, PLUS, "pay-2", 4500, JAN31 - timedelta(days=1))).profile
    assert "in order" in refused(Change.start(PAID, profile, JAN31), PLUS, 2)
    change = Change.start(PAID, profile, JAN31)
    cards.refund(change, PLUS, "pay-2", [], JAN31)
    cards.buy(change, PLUS, "pay-3", 4500, JAN31 - timedelta(days=2))  # after pay-1, the latest left


def test_payments_confirmed_at_once_may_commit_in_either_order() -> None:
    """Two confirmations without paid_at race: each is paid when received, the later one may commit first."""
    profile = step(fresh(), JAN31, lambda c: cards.buy(c, PLUS, "pay-2", 4500, JAN31)).profile
    change = Change.start(PAID, profile, JAN31)
    _, extended = cards.buy(change, PLUS, "pay-1", 4500, JAN31 - timedelta(minutes=4))
    assert extended and change.profile.paid_cards["plus-quarter"].months == 6
    assert "in order" in refused(Change.start(PAID, profile, JAN31), PLUS, 6 / 24 / 60)
