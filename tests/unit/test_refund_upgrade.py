"""tiers.undo_upgrade: which refunds undo an order's upgrade, and how far back they go."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.member import Profile
from loyalty.program import Program
from loyalty.rules import tiers
from loyalty.rules.posting import Change
from tests.support import program

DEMO = Program.model_validate(program("demo"))  # star 0, gold 100000, diamond 500000; 6-month window
UPGRADED = datetime(2026, 3, 2, 4, tzinfo=UTC)
NOW = datetime(2026, 3, 9, 4, tzinfo=UTC)
FAST = settings(max_examples=200, deadline=None, derandomize=True)


def record(before: str, *reached: str) -> dict:
    levels = [{"tier": t, "points": 0, "coupons": []} for t in reached]
    return {"from": before, "at": UPGRADED.isoformat(), "levels": levels}


def change(tier: str, spend: int, since: datetime = UPGRADED) -> Change:
    profile = Profile(
        program_id="p",
        member_id="m",
        enrolled_at=datetime(2025, 1, 1, tzinfo=UTC),
        tier_id=tier,
        tier_since=since,
        spend_by_month={"2026-03": spend},
    )
    return Change.start(DEMO, profile, NOW)


def test_nothing_when_the_order_gave_no_upgrade() -> None:
    assert tiers.undo_upgrade(change("gold", 0), None, {}, 120000, "refund:r", NOW) is None


def test_nothing_when_the_tier_was_reached_again_since() -> None:
    later = change("gold", 0, since=NOW)  # a review or another order gave gold after this order
    assert tiers.undo_upgrade(later, record("star", "gold"), {}, 120000, "refund:r", NOW) is None


def test_nothing_when_the_refund_did_not_lower_the_metric() -> None:
    # The order's month has left the window: the refund changes no metric, the review handles the tier.
    assert tiers.undo_upgrade(change("gold", 0), record("star", "gold"), {}, 0, "refund:r", NOW) is None


def test_back_to_the_tier_before_with_a_history_item() -> None:
    c = change("gold", 0)
    undone = tiers.undo_upgrade(c, record("star", "gold"), {}, 120000, "refund:r", NOW)
    assert undone is not None and undone.record["levels"] == []
    assert c.profile.tier_id == "star" and c.profile.tier_since == NOW
    assert [(t.from_tier, t.to_tier, t.reason) for t in c.tier_changes] == [("gold", "star", "refund")]


@FAST
@given(
    before=st.sampled_from(["star", "gold"]),
    spend_after=st.integers(0, 700000),
    spend_before=st.integers(0, 700000),
)
def test_never_up_never_below_the_tier_before_never_under_the_metric(
    before: str, spend_after: int, spend_before: int
) -> None:
    reached = ("gold", "diamond") if before == "star" else ("diamond",)
    c = change("diamond", spend_after)
    undone = tiers.undo_upgrade(c, record(before, *reached), {}, spend_before, "refund:r", NOW)
    assert DEMO.tiers is not None
    after = tiers.index_of(DEMO.tiers, c.profile.tier_id)
    assert tiers.index_of(DEMO.tiers, before) <= after <= 2
    if undone is None:
        assert after == 2
    else:
        assert after < 2 and spend_after < spend_before and spend_after < 500000
        assert after == max(tiers.index_of(DEMO.tiers, before), 1 if spend_after >= 100000 else 0)
