"""The member's app, its pure parts: the program view's rewards and words, notices in words, notice keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.member import Notice, Profile
from loyalty.program import Program, Reward
from loyalty.rules import member_program, notices, spending
from loyalty.rules.posting import Change
from loyalty.store.keys import notice_sk
from tests.support import program

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def demo() -> Program:
    return Program.model_validate(program("demo"))


def change(balance: int = 0, **fields: object) -> Change:
    member = Profile(program_id="p", member_id="m", enrolled_at=NOW, buckets={"2027-12-31": balance}, **fields)
    return Change.start(demo(), member, NOW)


def test_a_reward_is_judged_by_the_redemption_check_and_the_check_takes_nothing_twice() -> None:
    mug = Reward(id="mug", name="Mug", cost_points=10, fulfilment="goods", stock=3, per_member_limit=2)
    assert member_program.reward(change(5), mug, {})["reason"] == "insufficient_points"
    assert member_program.reward(change(50, redeemed={"mug": 2}), mug, {})["reason"] == "limit_reached"
    shown = member_program.reward(change(50), mug, {0: 1, 1: 1, 2: 1})
    assert (shown["available"], shown["reason"], shown["stock_left"]) == (False, "out_of_stock", 0)
    assert member_program.reward(change(50), mug, {0: 1})["stock_left"] == 2


@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.integers(0, 40), st.lists(st.integers(0, 10), min_size=8, max_size=8))
def test_stock_left_and_full_shards_agree(stock: int, taken: list[int]) -> None:
    reward = Reward(id="r", name="R", cost_points=1, stock=stock)
    shards = dict(enumerate(taken[: len(spending.allotments(stock))]))
    left = spending.stock_left(reward, shards)
    full = spending.full_shards(reward, shards)
    assert (left == 0) == (len(full) == len(spending.allotments(stock)))


def test_tier_benefits_in_words() -> None:
    gold = demo().tiers.levels[1]  # type: ignore[union-attr]
    shown = member_program.tier(demo(), gold)
    assert [b["name"] for b in shown["benefits"]] == [
        "1.2x points",
        "On reaching the tier: " + demo().coupons["gold-gift"].name,
        "Every month: " + demo().coupons["gold-monthly"].name,
    ]


def notice(**fields: object) -> Notice:
    return Notice.model_validate({"notice_id": "n", "at": NOW, **fields})


def test_notices_in_words() -> None:
    p = demo()
    assert notices.text(p, notice(kind="points_expiring", points=120, expires_on="2026-12-31")) == (
        "120 points expire on 2026-12-31"
    )
    until = datetime(2026, 7, 31, 16, tzinfo=UTC)  # Aug 1 in Shanghai
    card = notice(kind="card_expiring", plan_id="plus-quarter", active_until=until)
    assert notices.text(p, card) == f"Your {p.card_plan('plus-quarter').name} card ends on 2026-08-01"  # type: ignore[union-attr]
    applied = notice(kind="campaign_applied", campaign_id="check-in-streak", points=50, coupon_ids=["c1", "c2"])
    assert notices.text(p, applied) == "A campaign: you got 50 points and 2 coupons"  # not public: no name


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 10**9), min_size=2, max_size=10))
def test_notice_keys_sort_by_time_and_after_the_keys_before_them(seconds: list[int]) -> None:
    times = [datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=s, microseconds=s % 7) for s in seconds]
    keys = [notice_sk(at, f"campaign.c.order:{i}") for i, at in enumerate(times)]
    assert [k for _, k in sorted(zip(times, keys, strict=True))] == sorted(keys)
    for old in ("NOTICE#points_expiring.2026-12-31", "NOTICE#card_purchased.plus.p1", "NOTICE#campaign.c.order:o1"):
        assert all(k > old for k in keys)
