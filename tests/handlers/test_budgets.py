"""Budgets on periodic benefits (moto): once a month's budget is spent, members are settled without it."""

from __future__ import annotations

from datetime import UTC, datetime

from loyalty.http.deps import store
from loyalty.schemas import Enrol, Purchase
from loyalty.usecases import earn, engine, members, programs
from tests.handlers.conftest import Api
from tests.support import program


def test_a_spent_budget_stops_issuing_atomically(api: Api) -> None:
    doc = program("demo")
    doc["tiers"]["levels"][1]["every_month"]["budget"] = 2  # gold's monthly coupon: two members a month
    doc["lifecycle"].pop("birthday")
    programs.save(store(), "demo", doc)
    t0 = datetime(2026, 1, 5, 4, tzinfo=UTC)
    for i in range(5):
        members.enrol(store(), "demo", Enrol(member_id=f"m{i}"), t0)
        earn.purchase(store(), "demo", f"m{i}", Purchase(order_id=f"o{i}", amount_minor=100000), t0)  # gold

    def run(at: datetime) -> int:
        settled = 0
        for item in engine.plan(at, ["benefits"]):
            stats, _ = engine.work(store(), item, lambda: 900)
            settled += stats.get("members_settled", 0)
        return settled

    def monthly(month: str) -> int:
        wallets = [store().coupons("demo", f"m{i}") for i in range(5)]
        return sum(1 for wallet in wallets for c in wallet if c.source == f"tier:gold:{month}")

    assert run(t0) == 5  # the day they joined: January settled, two of five got January's coupon
    assert monthly("2026-01") == 2
    assert run(datetime(2026, 2, 1, 4, tzinfo=UTC)) == 5  # every member settled for February...
    assert monthly("2026-02") == 2  # ...but only two got the budgeted coupon
    assert run(datetime(2026, 2, 1, 4, tzinfo=UTC)) == 0  # a repeat changes nothing
    assert run(datetime(2026, 3, 1, 4, tzinfo=UTC)) == 5
    assert monthly("2026-03") == 2  # a new month, a new budget
