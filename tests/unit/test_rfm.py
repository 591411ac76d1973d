"""RFM scores, segments, the day a segment can next change by itself, and validation of the section."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from loyalty.member import Profile
from loyalty.program import Program, problems
from loyalty.rules import rfm
from tests.support import program

DOC = program("demo") | {"rfm": {"benefits": {"at_risk": {"coupons": ["welcome-10"]}}}}
P = Program.model_validate(DOC)
TODAY = date(2026, 6, 15)


def member(days_idle: int | None, orders: int = 0, spend: int = 0) -> Profile:
    last = None if days_idle is None else datetime(2026, 6, 15, 4, tzinfo=UTC) - timedelta(days=days_idle)
    return Profile(
        program_id="p",
        member_id="m",
        enrolled_at=datetime(2025, 1, 1, tzinfo=UTC),
        last_purchase_at=last,
        orders_by_month={"2026-05": orders},
        spend_by_month={"2026-05": spend},
    )


@pytest.mark.parametrize(
    ("idle", "orders", "spend", "expected", "segment"),
    [
        (0, 8, 200000, (5, 5, 5), "champions"),
        (30, 2, 10000, (5, 2, 2), "promising"),
        (31, 5, 9999, (4, 4, 1), "loyal"),
        (61, 1, 0, (3, 1, 1), "needs_attention"),
        (91, 3, 30000, (2, 3, 3), "at_risk"),
        (400, 1, 100, (1, 1, 1), "hibernating"),
    ],
)
def test_scores_and_segments(idle: int, orders: int, spend: int, expected: tuple[int, int, int], segment: str) -> None:
    assert P.rfm is not None
    assert rfm.scores(P.rfm, member(idle, orders, spend), TODAY, P.zone) == expected
    assert rfm.segment_of(P, member(idle, orders, spend), TODAY) == segment


def test_a_member_who_never_bought_is_a_prospect_and_never_due() -> None:
    assert rfm.segment_of(P, member(None), TODAY) == "prospect"
    assert rfm.next_change(P, member(None), TODAY) is None


def test_the_segment_is_next_due_the_day_recency_drops() -> None:
    # Last purchase on 2026-06-15 (local): recency falls from 5 to 4 on day 31 after it.
    assert rfm.next_change(P, member(0), TODAY) == date(2026, 7, 16)
    assert rfm.next_change(P, member(200), TODAY) is None  # already at 1


def test_no_rfm_section_no_segment() -> None:
    assert rfm.segment_of(Program.model_validate(program("demo")), member(0), TODAY) is None


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"recency_days": [30, 30, 90, 180]}, "rfm.recency_days"),
        ({"benefits": {"vip": {"coupons": ["welcome-10"]}}}, "rfm.benefits.vip"),
        ({"benefits": {"loyal": {"coupons": ["nope"]}}}, "rfm.benefits.loyal.coupons[0]"),
    ],
)
def test_rfm_section_problems(section: dict[str, Any], field: str) -> None:
    found = problems(Program.model_validate(program("demo") | {"rfm": section}))
    assert [p["field"] for p in found] == [field]
