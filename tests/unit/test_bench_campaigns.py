"""bench/campaigns.py's programs pass the checks at PUT, and on its sample order exactly one campaign
in ten holds (none in the idle cases and the other triggers), as its table says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench import campaigns as bench
from loyalty.member import Profile
from loyalty.rules import campaigns, earning
from loyalty.rules.posting import Change
from loyalty.usecases.programs import validate

NOW = datetime(2026, 12, 3, 4, tzinfo=UTC)


def test_the_bench_programs_are_valid_and_one_campaign_in_ten_holds() -> None:
    # The bench's members after their untimed orders: at the top tier, a few orders in.
    member = Profile(
        program_id="p", member_id="m", enrolled_at=NOW - timedelta(hours=1), tier_id="diamond", orders_total=2
    )
    holding = {}
    for pid, rules in bench.cases(NOW).items():
        p = validate(bench.document(rules))  # ProgramInvalid lists every problem
        factors = earning.multipliers(p, member, NOW, NOW.astimezone(p.zone).date())
        o = campaigns.order(p, bench.AMOUNT, bench.ITEMS, factors, "s1", "app")
        event = campaigns.Event("purchase", NOW, "order:o1", order=o)
        holding[pid] = [a.campaign_id for a in campaigns.run(Change.start(p, member, NOW), event)]
    assert {pid: len(ids) for pid, ids in holding.items()} == {
        "none": 0,
        "p5": 1,
        "p50": 5,
        "p5-idle": 0,
        "p50-idle": 0,
        "other50": 0,
    }
