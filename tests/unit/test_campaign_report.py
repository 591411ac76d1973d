"""The campaigns report's rules (rules/campaign_report, rules/health): each campaign's counters per
program-local day as well as in total, a coupon's use and its undoing, an order's GMV net of refunds,
the cost at the program's point value, the status, and the counter's chunks fitting a transaction."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty.program import Campaign, Program
from loyalty.rules import campaign_report, health
from loyalty.store import decode_change
from loyalty.usecases.health import TRANSACTION_ITEMS, _chunks
from tests.support import program
from tests.unit.test_events import AT, record

DEMO = Program.model_validate(program("demo"))
DAY = ("campaign_day", "2026-03-01#gift")  # AT is noon in Shanghai on March 1st


def deltas(sk: str, new: dict[str, Any] | None, old: dict[str, Any] | None = None, pk: str = "MEMBER#demo#m1") -> Any:
    out: health.Deltas = {}
    change = decode_change(record(sk, new, old, pk))
    assert change is not None
    health.deltas(change, DEMO, AT, out)
    return out


COUPON = {"coupon_id": "c1", "status": "available", "source": "campaign:gift:order:o1", "value_minor": 500}


def test_a_campaigns_coupon_used_counts_its_money_off_and_a_refund_gives_it_back() -> None:
    used = {**COUPON, "status": "used", "discount_minor": 300}
    out = deltas("COUPON#c1", used, COUPON)
    assert out[("demo", ("campaign", "gift"))] == Counter({"coupons_used": 1, "coupons_used_minor": 300})
    assert out[("demo", DAY)] == out[("demo", ("campaign", "gift"))]
    back = deltas("COUPON#c1", {**COUPON, "discount_minor": None}, used)  # its order fully refunded
    assert back[("demo", DAY)] == Counter({"coupons_used": -1, "coupons_used_minor": -300})
    gift = deltas("COUPON#c1", {**COUPON, "status": "used", "discount_minor": None}, COUPON)
    assert gift[("demo", DAY)]["coupons_used_minor"] == 500  # no money off recorded: its face value


def test_an_orders_campaigns_count_it_and_its_amount_net_of_refunds() -> None:
    pk = "REF#demo#order#o1"
    order = {"member_id": "m1", "order_minor": 8000, "refunded_minor": 0, "campaigns_applied": ["gift"]}
    order |= {"checkout_campaigns": ["five"]}
    out = deltas("REF", order, pk=pk)
    assert out[("demo", DAY)] == Counter({"orders": 1, "gmv_minor": 8000})
    assert out[("demo", ("campaign_day", "2026-03-01#five"))] == Counter({"gmv_minor": 8000})  # orders: its checkout
    refunded = {**order, "refunded_minor": 2000, "campaigns_reversed": {"gift": 50}}
    out = deltas("REF", refunded, order, pk=pk)
    assert out[("demo", DAY)] == Counter({"gmv_minor": -2000, "points_reversed": 50})


def test_cost_is_net_points_at_the_point_value_plus_coupons_and_discounts() -> None:
    doc = program("demo")
    doc["points"]["value"] = {"points": 100, "worth_minor": 30}
    counters = {"points_given": 1000, "points_reversed": 300, "coupons_used_minor": 500, "discount_minor": 120}
    figures = campaign_report.figures(Program.model_validate(doc), counters)
    assert figures["cost_minor"] == 700 * 30 // 100 + 500 + 120
    assert set(figures) == {*campaign_report.COUNTED, "cost_minor"}


def test_the_status_by_window_and_budget() -> None:
    now = datetime(2026, 3, 1, tzinfo=UTC)

    def of(active: dict[str, str] | None, left: dict[str, int] | None = None) -> str:
        c = Campaign.model_validate(
            {"id": "c", "name": "c", "trigger": "purchase", "effects": [{"points": 1}]}
            | ({"active": active} if active else {})
        )
        return campaign_report.status(c, DEMO, now, left)

    later, before = (now + timedelta(days=1)).isoformat(), (now - timedelta(days=1)).isoformat()
    assert of(None) == "running" and of(None, {"points": 5}) == "running"
    assert of({"from": later}) == "scheduled" and of({"from": later, "until": later}) == "scheduled"
    assert of({"until": before}) == "ended" and of({"from": before, "until": now.isoformat()}) == "ended"
    assert of({"from": before}, {"points": 0, "coupons": 3}) == "budget_spent"
    assert of({"until": before}, {"points": 0}) == "ended"  # its window decides first
    assert of({"from": "2026-03-01T07:00:00"}) == "running" and of({"from": "2026-03-01T09:00:00"}) == "scheduled"


def test_a_chunk_of_the_counter_fits_one_transaction() -> None:
    many = [(f"e{n}", {("p", ("campaign_day", f"d#{n}-{k}")): Counter(a=1) for k in range(5)}) for n in range(40)]
    chunks = _chunks(many)
    assert [r for c in chunks for r in c] == many  # all, in order
    assert all(len(c) + len({k for _, d in c for k in d}) <= TRANSACTION_ITEMS for c in chunks)
    assert len(_chunks([(f"e{n}", {("p", ("day", "d")): Counter(a=1)}) for n in range(90)])) == 3  # at most 40
