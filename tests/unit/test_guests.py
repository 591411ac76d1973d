"""Guest orders and guest customers in the health counters (rules/guests.py): what each stream record
adds, and the conversion of a range, whose converted customers are always among its guest customers."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from loyalty.program import Program
from loyalty.rules import health
from loyalty.store import decode_change
from tests.support import program
from tests.unit.test_events import record

DEMO = Program.model_validate(program("demo"))  # Asia/Shanghai
AT = datetime(2026, 3, 1, 4, tzinfo=UTC)
GUEST = "GUEST#demo#crm-1"


def counted(*records: dict[str, Any]) -> dict[Any, Counter[str]]:
    out: health.Deltas = {}
    for rec in records:
        change = decode_change(rec)
        assert change is not None
        health.deltas(change, DEMO, AT, out)
    return out


def test_a_guest_order_is_guest_gmv_on_its_day_and_never_member_gmv() -> None:
    order = {"guest": True, "member_id": None, "order_id": "g-1", "order_minor": 4200, "request_hash": "h"}
    rec = record("REF", order, pk="REF#demo#order#g-1")
    assert decode_change(rec).kind == "guest_order"  # type: ignore[union-attr]
    assert counted(rec) == {("demo", ("day", "2026-03-01")): Counter({"guest_orders": 1, "guest_gmv_minor": 4200})}
    assert counted(record("REF", order, order, pk="REF#demo#order#g-1")) == {}  # written once: a change adds nothing


def test_a_guest_customer_counts_once_on_the_day_of_its_first_order() -> None:
    first = {"first_order_at": "2026-02-27T17:00:00+00:00", "orders": 1}  # 28 Feb, 01:00 in Shanghai
    assert counted(record("GUEST", first, pk=GUEST)) == {
        ("demo", ("day", "2026-02-28")): Counter({"guest_customers": 1})
    }
    assert counted(record("GUEST", {**first, "orders": 2}, first, pk=GUEST)) == {}


def test_a_conversion_counts_once_on_the_enrolment_day_naming_the_first_day() -> None:
    first = {"first_order_at": "2026-02-27T17:00:00+00:00", "orders": 2}
    converted = {**first, "converted_at": "2026-03-01T04:00:00+00:00"}
    assert counted(record("GUEST", converted, first, pk=GUEST)) == {
        ("demo", ("day", "2026-03-01")): Counter({"converted_from:2026-02-28": 1})
    }
    assert counted(record("GUEST", {**converted, "orders": 3}, converted, pk=GUEST)) == {}


def test_a_first_day_past_any_range_is_kept_a_year_back() -> None:
    old = {"first_order_at": "2020-01-01T00:00:00+00:00", "orders": 1}
    converted = {**old, "converted_at": "2026-03-01T04:00:00+00:00"}
    [(_, day)] = counted(record("GUEST", converted, old, pk=GUEST)).items()
    assert day == Counter({"converted_from:2025-02-28": 1})  # 366 days before 2026-03-01


def test_the_conversion_of_a_range_counts_customers_first_seen_in_it() -> None:
    """README's example: crm-1 first ordered on 28 Feb, crm-2 and crm-3 on 2 Mar; crm-1 and crm-2
    enrolled on 3 Mar. March: guest customers crm-2, crm-3; converted crm-2 (crm-1 was first seen in
    February) -> 1 / 2. From 28 Feb: three customers, two converted."""
    days = [
        {"sk": "D#2026-02-28", "guest_customers": 1, "guest_gmv_minor": 3000},
        {"sk": "D#2026-03-02", "guest_customers": 2, "guest_gmv_minor": 1500},
        {
            "sk": "D#2026-03-03",
            "converted_from:2026-02-28": 1,
            "converted_from:2026-03-02": 1,
            "new_members": 3,
            "channel:app": 2,
            "channel:web": 1,
            "member_gmv_minor": 4500,
        },
    ]
    march = health.guest_figures(days[1:], date(2026, 3, 1))
    assert (march["guest_customers"], march["converted_guests"], march["conversion_rate"]) == (1 + 1, 1, 0.5)
    assert march["guest_gmv_minor"] == 1500 and march["member_gmv_share"] == 0.75
    assert march["new_members_by_channel"] == {"app": 2, "web": 1}
    wider = health.guest_figures(days, date(2026, 2, 28))
    assert (wider["guest_customers"], wider["converted_guests"], wider["conversion_rate"]) == (3, 2, 0.6667)
    assert health.guest_figures([], date(2026, 3, 1))["conversion_rate"] is None
