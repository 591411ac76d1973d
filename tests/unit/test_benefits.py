"""Periodic benefits and grant budgets as pure rules: the birthday gift's validity, budget takes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from loyalty.member import Profile
from loyalty.program import Grant, Program
from loyalty.rules import benefits
from loyalty.rules.posting import Change, issue_coupon
from tests.support import program


def demo(valid_days: int = 14) -> Program:
    doc = program("demo")
    for template in doc["coupons"].values():  # the birthday's coupon and the welcome-10 issued below
        template["valid_days"] = valid_days
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
    assert issue_coupon(demo(14), "m", "welcome-10", at, "x").valid_until == shanghai_end_of(2026, 3, 16)


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


# ---- tags as benefit targets (tag_benefits) ---------------------------------------------------------


def tagged_program(only_tags: bool = False, budget: int | None = None) -> Program:
    doc = program("demo")
    doc["tag_benefits"] = {"baby": {"points": 50, "coupons": ["welcome-10"], "budget": budget}}
    if only_tags:  # no monthly benefit for every member: tiers without every_month, no birthday gift
        doc["tiers"]["levels"][1].pop("every_month")
        doc["lifecycle"].pop("birthday")
    return Program.model_validate(doc)


def holder(tags: list[str], at: datetime) -> Profile:
    return Profile(program_id="p", member_id="m", enrolled_at=at - timedelta(days=1), tier_id="star", tags=tags)


def issued(prog: Program, profile: Profile, at: datetime) -> tuple[Change, list[str]]:
    change = Change.start(prog, profile, at)
    benefits.issue(change)
    return change, sorted(c.source for c in change.coupons)


def test_a_tag_s_grant_is_issued_once_a_month_to_members_holding_it() -> None:
    at = datetime(2026, 3, 3, 4, tzinfo=UTC)
    change, sources = issued(tagged_program(), holder(["baby", "tea"], at), at)
    assert sources == ["tag:baby:2026-03"]
    assert [(e.type, e.points, e.ref) for e in change.entries] == [("bonus", 50, "tag:baby:2026-03")]
    assert change.profile.tag_months == {"baby": "2026-03"}
    assert issued(tagged_program(), change.profile, at + timedelta(days=5))[1] == []  # March is settled
    april = datetime(2026, 4, 1, 4, tzinfo=UTC)
    again, sources = issued(tagged_program(), change.profile, april)
    assert sources == ["tag:baby:2026-04"] and again.profile.tag_months == {"baby": "2026-04"}
    assert issued(tagged_program(), holder(["tea"], at), at)[1] == []  # no benefit for that tag


def test_a_tag_s_budget_site_is_its_own() -> None:
    at = datetime(2026, 3, 3, 4, tzinfo=UTC)
    change, _ = issued(tagged_program(budget=10), holder(["baby"], at), at)
    assert change.budget_takes == {"tag:baby:2026-03": (10, 1)}
    spent = Change.start(tagged_program(budget=10), holder(["baby"], at), at, exhausted={"tag:baby:2026-03"})
    benefits.issue(spent)
    assert spent.coupons == [] and spent.profile.tag_months == {"baby": "2026-03"}  # settled without it


def test_a_member_tagged_after_the_month_was_settled_is_due_at_once_and_only_once() -> None:
    at = datetime(2026, 3, 3, 4, tzinfo=UTC)
    prog = tagged_program()
    settled, sources = issued(prog, holder([], at), at)
    assert "tier:" not in " ".join(sources) and settled.profile.benefits_month == "2026-03"
    assert benefits.benefits_day(prog, settled.profile, at.date()) == date(2026, 4, 1)
    tagged = settled.profile.model_copy(update={"tags": ["baby"]})
    assert benefits.benefits_day(prog, tagged, at.date()) == at.date()  # due today for the tag
    after, sources = issued(prog, tagged, at)
    assert sources == ["tag:baby:2026-03"]  # the tag's grant, not the month's other benefits again
    untagged = after.profile.model_copy(update={"tags": []})
    retagged = untagged.model_copy(update={"tags": ["baby"]})
    assert benefits.benefits_day(prog, retagged, at.date()) == date(2026, 4, 1)
    assert issued(prog, retagged, at)[1] == []  # removed and added again in March: not paid twice


def test_a_program_whose_only_benefits_are_tags_makes_only_holders_due() -> None:
    at = datetime(2026, 3, 3, 4, tzinfo=UTC)
    prog = tagged_program(only_tags=True)
    assert benefits.has_benefits(prog)
    assert benefits.benefits_day(prog, holder(["tea"], at), at.date()) is None
    assert benefits.benefits_day(prog, holder(["baby"], at), at.date()) == at.date()
    change, sources = issued(prog, holder(["baby"], at), at)
    assert sources == ["tag:baby:2026-03"] and change.profile.benefits_month is None
    assert benefits.benefits_day(prog, change.profile, at.date()) == date(2026, 4, 1)
