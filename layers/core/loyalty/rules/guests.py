"""What guest orders and guest customers add to the health counters, and the guest figures of a range
(rules/health.py registers these per stream record kind; API.md "Referral, and where members come from").

- a guest order (its reference, written once): `guest_orders` and `guest_gmv_minor` on the day it is
  recorded, as a member's order counts on its day;
- a guest customer (GUEST item): `guest_customers` +1 on the program-local day its first guest order
  was recorded, once (the item is created then), so "distinct customer_refs of a range" is a sum of days;
- its conversion (the enrolment naming it sets `converted_at`, once): `converted_from:<first day>` +1 on
  the enrolment's day. The rate counts those whose first day is in the range too, so what it counts
  is a subset of the range's guest customers and the rate stays within 0 and 1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from .. import clock
from ..program import Program
from ..records import StreamRecord

Add = Callable[[tuple[str, str], str, int], None]  # rules/health.Add
CONVERTED = "converted_from:"
# A first day further back than any range reaches (usecases/health.MAX_DAYS) is kept as that far back:
# still before every range holding the enrolment's day, and a day item holds at most this many names.
KEPT_DAYS = 366


def order(change: StreamRecord, program: Program, day: tuple[str, str], add: Add) -> None:
    new = change.new
    if new is None or change.old is not None:  # written once; a repeat of the request writes nothing
        return
    add(day, "guest_orders", 1)
    add(day, "guest_gmv_minor", int(new["order_minor"]))


def customer(change: StreamRecord, program: Program, day: tuple[str, str], add: Add) -> None:
    new, old = change.new, change.old
    if new is None or not new.get("first_order_at"):
        return
    first = clock.local_date(clock.parse(new["first_order_at"]), program.zone)
    if old is None:
        add(("day", first.isoformat()), "guest_customers", 1)
    if new.get("converted_at") and not (old or {}).get("converted_at"):
        enrolled = clock.local_date(clock.parse(new["converted_at"]), program.zone)
        kept = max(first, enrolled - timedelta(days=KEPT_DAYS))
        add(("day", enrolled.isoformat()), f"{CONVERTED}{kept.isoformat()}", 1)


def counts(days: list[dict[str, Any]], start: date) -> dict[str, Any]:
    """The guest counts of a range from its day items: GMV, guest customers, those converted (first
    guest order and enrolment both in the range) and new members by channel."""
    converted = 0
    channels: dict[str, int] = {}
    for row in days:
        for name, n in row.items():
            if name.startswith(CONVERTED) and name.removeprefix(CONVERTED) >= start.isoformat():
                converted += int(n)
            elif name.startswith("channel:") and int(n):
                channels[name.removeprefix("channel:")] = channels.get(name.removeprefix("channel:"), 0) + int(n)
    return {
        "guest_gmv_minor": sum(int(r.get("guest_gmv_minor", 0)) for r in days),
        "guest_customers": sum(int(r.get("guest_customers", 0)) for r in days),
        "converted_guests": converted,
        "new_members_by_channel": dict(sorted(channels.items())),
    }
