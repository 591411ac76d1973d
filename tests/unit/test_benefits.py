"""Periodic benefits and grant budgets as pure rules: the birthday gift's validity, budget takes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyalty.member import Profile
from loyalty.program import Grant, Program
from loyalty.rules import benefits
from loyalty.rules.posting import Change, issue_coupon
from tests.support import program


def demo(valid_days: int = 14) -> Program:
    doc = program("demo")
    doc["coupons"]["welcome-10"]["valid_days"] = valid_days
    return Program.model_validate(doc)


def member(birthday: str, at: datetime) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=at - timedelta(days=1), birthday=birthday, tier_id="star")


def birthday_gift(prog: Program, birthday: str, at: datetime) -> datetime:
    change = Change.start(prog, member(birthday, at), at)
    benefits.issue(change)
    (gift,) = [c for c in change.coupons if c.source.startswith("birthday:")]
    return gift.valid_until


def shanghai_end_of(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 15, 59, 59, tzinfo=UTC)  # 23:59:59 at UTC+8


def test_a_birthday_coupon_issued_early_is_valid_through_the_birthday_month() -> None:
    # Issued on the 3rd with valid_days 14 (the 16th): the birthday on the 20th is covered.
    on_the_3rd = datetime(2026, 3, 3, 4, tzinfo=UTC)
    assert birthday_gift(demo(14), "1990-03-20", on_the_3rd) == shanghai_end_of(2026, 3, 31)


def test_a_longer_template_validity_is_kept() -> None:
    on_the_3rd = datetime(2026, 3, 3, 4, tzinfo=UTC)
    assert birthday_gift(demo(60), "03-20", on_the_3rd) == shanghai_end_of(2026, 5, 1)


def test_a_29_february_birthday_in_a_common_year_is_covered_to_28_february() -> None:
    assert birthday_gift(demo(7), "2000-02-29", datetime(2027, 2, 1, 4, tzinfo=UTC)) == shanghai_end_of(2027, 2, 28)


def test_other_coupons_keep_their_valid_days() -> None:
    at = datetime(2026, 3, 3, 4, tzinfo=UTC)
    assert issue_coupon(demo(14), "welcome-10", at, "x").valid_until == shanghai_end_of(2026, 3, 16)


def test_budget_takes_add_up_per_site_and_month() -> None:
    at = datetime(2026, 3, 3, 4, tzinfo=UTC)
    change = Change.start(demo(), member("01-01", at), at)
    grant = Grant(coupons=["welcome-10"], budget=2)
    assert change.grant(grant, "bonus", at, "a", budget="card:x:cycle")
    assert change.grant(grant, "bonus", at, "b", budget="card:x:cycle")
    assert change.grant(grant, "bonus", at, "c", budget="card:x:cycle") == []  # more than the limit
    assert change.budget_takes == {"card:x:cycle:2026-03": (2, 2)}  # one item for the transaction
    assert change.take_budget(None, "anything", 10**6)  # no budget: nothing taken
    assert change.budget_takes == {"card:x:cycle:2026-03": (2, 2)}


def test_a_spent_budget_skips_the_grant_and_takes_nothing() -> None:
    at = datetime(2026, 3, 3, 4, tzinfo=UTC)
    change = Change.start(demo(), member("01-01", at), at, exhausted={"welcome:2026-03"})
    assert change.grant(Grant(points=100, coupons=["welcome-10"], budget=5), "welcome", at, "w", budget="welcome") == []
    assert change.entries == [] and change.budget_takes == {}
