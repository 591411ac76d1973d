"""Coupon ids (issue 27, item 1): unique to their member, and the same for the same grant of one member."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyalty.member import Profile
from loyalty.program import Program
from loyalty.rules import benefits
from loyalty.rules.posting import Change
from tests.support import program

AT = datetime(2026, 3, 3, 4, tzinfo=UTC)


def gold(member_id: str) -> Profile:
    return Profile(program_id="p", member_id=member_id, enrolled_at=AT - timedelta(days=1), tier_id="gold")


def monthly_ids(member_id: str) -> list[str]:
    """The coupon ids of one member's tier benefit for March (source `tier:gold:2026-03`)."""
    change = Change.start(Program.model_validate(program("demo")), gold(member_id), AT)
    benefits.issue(change)
    coupons = [c for c in change.coupons if c.source == "tier:gold:2026-03"]
    assert coupons
    return [c.coupon_id for c in coupons]


def test_two_members_get_different_ids_for_the_same_grant() -> None:
    assert set(monthly_ids("m1")).isdisjoint(monthly_ids("m2"))


def test_the_same_grant_of_one_member_gives_the_same_ids() -> None:
    assert monthly_ids("m1") == monthly_ids("m1")
