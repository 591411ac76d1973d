"""Program health, kept incrementally from committed item changes (the table's stream), never by
reading members.

Three kinds of counters per program:
- per program-local day: new members, members erased, orders, member GMV, points earned / redeemed /
  expired / reversed / adjusted (signed), coupons issued / used (less those a refund gave back, on
  its day), confirmed checkouts' money off by
  source (`discount:<source>`, rules/checkout.SOURCES): additive, so any day range is a sum,
  and a running total as of any day is today's total less what the days after it added;
- per program-local month: buyers (a member's first order of the month) and repeat buyers (its
  second): distinct members, exact per month, so the rates that count members use whole months;
- running totals: members, points outstanding, members per tier and per RFM segment (the segment
  is kept on the profile, so its changes are item changes too), all-time member GMV;
- per campaign: applications, members reached, points, coupons and growth given, and a checkout
  campaign's money off and orders (one `campaign_applied` notice per application; a checkout
  campaign's, from the confirmed checkout's item, which lists them); its coupons used (and their money
  off) and the GMV of the orders it applied to, net of refunds; each both as a running total and per
  program-local day (`campaign_day`, the campaigns report's series).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from .. import clock
from ..program import Program
from ..records import StreamRecord
from . import checkout, experiments, guests, referral_report, shadow

# A counter item is named by its period: ("day", "YYYY-MM-DD"), ("month", "YYYY-MM") or TOTAL; the
# store alone knows the keys they are kept under.
Period = tuple[str, str]
TOTAL: Period = ("total", "")
Deltas = dict[tuple[str, Period], Counter[str]]  # (program id, period) -> counters

CAMPAIGN_COUNTERS = (
    "applications",
    "members_reached",
    "points_given",
    "coupons_given",
    "growth_given",
    "discount_minor",
    "orders",
)
# Per campaign, net of refunds: the points refunds took back of what it gave on their orders (the
# order's reference keeps them by campaign; a redemption cancel's and a referral cancel's, those they
# took back), and its coupons a full refund or a cancel revoked.
CAMPAIGN_REFUND_COUNTERS = ("points_reversed", "coupons_revoked")
# Per campaign, for its cost (issue 31): its coupons used and the money they took off (less those a
# refund made available again), and the amount of the orders it applied to, net of their refunds.
CAMPAIGN_COST_COUNTERS = ("coupons_used", "coupons_used_minor", "gmv_minor")
_CREDITS = {
    "welcome": "points_earned",
    "earn": "points_earned",
    "activity": "points_earned",
    "bonus": "points_earned",
    "restore": "points_restored",
}
_DEBITS = {"redeem": "points_redeemed", "expire": "points_expired", "reverse": "points_reversed"}


Add = Callable[[Period, str, int], None]  # adds to one counter of the record's program


def deltas(change: StreamRecord, program: Program, committed: datetime, out: Deltas) -> None:
    """Add what one committed item change does to the counters (one function per item kind)."""
    pid = change.program_id
    day = ("day", clock.local_date(committed, program.zone).isoformat())

    def add(key: Period, name: str, value: int) -> None:
        if value:
            out.setdefault((pid, key), Counter())[name] += value

    counted = _BY_KIND.get(change.kind)
    if counted is not None:
        counted(change, program, day, add)
    referral_report.deltas(change, program, day, add)


def _member(change: StreamRecord, program: Program, day: Period, add: Add) -> None:
    new, old = change.new, change.old
    for (cid, arm), counts in experiments.deltas(old, new).items():  # per experiment arm (rules/experiments)
        for name, value in counts.items():
            add(experiment_arm(cid, arm), name, value)
    add(TOTAL, "points_pending", _pending(new) - _pending(old))  # the return window's, apart from the liability
    if new is None:
        if old is not None:  # erased: no longer a member
            add(day, "members_erased", 1)
            add(TOTAL, "members", -1)
            add(TOTAL, f"tier:{old.get('tier_id')}", -1 if old.get("tier_id") else 0)
            add(TOTAL, f"segment:{old.get('segment')}", -1 if old.get("segment") else 0)
        return
    if old is None:
        enrolled = clock.local_date(clock.parse(new["enrolled_at"]), program.zone)
        add(("day", enrolled.isoformat()), "new_members", 1)
        add(("day", enrolled.isoformat()), f"channel:{new.get('channel')}", 1 if new.get("channel") else 0)
        add(TOTAL, "members", 1)
        add(TOTAL, f"tier:{new.get('tier_id')}", 1 if new.get("tier_id") else 0)
        add(TOTAL, f"segment:{new.get('segment')}", 1 if new.get("segment") else 0)
        return
    for month, count in new.get("orders_by_month", {}).items():
        before = old.get("orders_by_month", {}).get(month, 0)
        add(("month", month), "buyers", 1 if before == 0 < count else 0)
        add(("month", month), "repeat_buyers", 1 if before < 2 <= count else 0)
    for flag_day in _flag_days(new) - _flag_days(old):  # a member flagged on a day counts once that day
        add(("day", flag_day), "members_flagged", 1)
    for field in ("tier_id", "segment"):  # running counts of members per tier and per segment
        label = field.removesuffix("_id")
        if old.get(field) != new.get(field):
            add(TOTAL, f"{label}:{old.get(field)}", -1 if old.get(field) else 0)
            add(TOTAL, f"{label}:{new.get(field)}", 1 if new.get(field) else 0)


def _flag_days(profile: dict[str, Any]) -> set[str]:
    """The program-local days the member's kept flags (rules/abuse.py) are of."""
    return {str(f["day"]) for f in profile.get("flags") or []}


def _pending(profile: dict[str, Any] | None) -> int:
    return sum(int(p["points"]) for p in (profile or {}).get("pending") or [])


def _ledger(change: StreamRecord, program: Program, day: Period, add: Add) -> None:
    new = change.new
    if new is None or change.old is not None or new.get("wallet"):  # only points' entries are points' figures
        return
    points = int(new["points"])
    name = _CREDITS.get(new["type"]) or _DEBITS.get(new["type"])
    if name:
        add(day, name, abs(points))
    elif new["type"] == "adjust":  # signed: adjustments, imports and erasures move the liability both ways
        add(day, "points_adjusted", points)
    add(TOTAL, "points", points)


def _coupon(change: StreamRecord, program: Program, day: Period, add: Add) -> None:
    new, old = change.new, change.old
    if new is None:
        return
    if old is None:
        add(day, "coupons_issued", 1)
    elif old.get("status") != "used" and new.get("status") == "used":
        add(day, "coupons_used", 1)
    elif old.get("status") == "used" and new.get("status") != "used":  # a refund gave it back: on its day
        add(day, "coupons_used", -1)
    source = str(new.get("source", ""))
    if old is None or not source.startswith("campaign:"):
        return
    cid = source.split(":")[1]
    if not old.get("revoked_at") and new.get("revoked_at"):
        _to_campaign(add, day, cid, "coupons_revoked", 1)
    was, now = old.get("status") == "used", new.get("status") == "used"
    if was != now:  # used, or made available again by its order's full refund
        sign, used = (1, new) if now else (-1, old)
        _to_campaign(add, day, cid, "coupons_used", sign)
        _to_campaign(add, day, cid, "coupons_used_minor", sign * _coupon_off(used))


def _notice(change: StreamRecord, program: Program, day: Period, add: Add) -> None:
    new = change.new
    if new is None or change.old is not None or new.get("kind") != "campaign_applied":
        return
    given = [
        1,
        1 if new.get("first") else 0,
        new.get("points", 0),
        len(new.get("coupon_ids") or []),
        new.get("growth", 0),
    ]
    _campaign(add, day, str(new["campaign_id"]), [*given, 0, 0])
    if new.get("arm"):  # an experiment arm's application: its cost per arm
        for name, value in experiments.given(program, new).items():
            add(experiment_arm(str(new["campaign_id"]), str(new["arm"])), name, value)


def _checkout(change: StreamRecord, program: Program, day: Period, add: Add) -> None:
    """A checkout counts once, on the change that confirms it (the confirm's one write): its money off
    by source, and each of its campaigns' application; opening, re-pricing and cancelling count nothing."""
    new, old = change.new, change.old
    if new is None or old is None or (old.get("status"), new.get("status")) != ("open", "confirmed"):
        return
    for source, amount in checkout.view_sources(new["priced"]).items():
        add(day, f"discount:{source}", amount)
    first = set(new.get("first_campaigns") or [])
    for applied in new["priced"].get("campaigns", []):
        cid = str(applied["campaign_id"])
        _campaign(add, day, cid, [1, 1 if cid in first else 0, 0, 0, 0, int(applied["discount_minor"]), 1])


def _campaign(add: Add, day: Period, campaign_id: str, given: list[int]) -> None:
    """One application of a campaign: CAMPAIGN_COUNTERS, in their order."""
    for name, value in zip(CAMPAIGN_COUNTERS, given, strict=True):
        _to_campaign(add, day, campaign_id, name, int(value))


def campaign_day(day: str, campaign_id: str) -> Period:
    """The counter item of one campaign's program-local day."""
    return ("campaign_day", f"{day}#{campaign_id}")


def experiment_arm(campaign_id: str, arm: str) -> Period:
    """The counter item of one arm of an experiment campaign (rules/experiments.COUNTERS)."""
    return ("experiment", f"{campaign_id}#{arm}")


def _to_campaign(add: Add, day: Period, campaign_id: str, name: str, value: int) -> None:
    """A campaign's counter: its running total and its day's (read by ranges in the campaigns report)."""
    add(("campaign", campaign_id), name, value)
    add(campaign_day(day[1], campaign_id), name, value)


def _coupon_off(coupon: dict[str, Any]) -> int:
    """What a used coupon cost: the money it took off its order, or its face value if it has none
    recorded (a gift or free-shipping coupon used at a till)."""
    off = coupon.get("discount_minor")
    return int(off if off is not None else coupon.get("value_minor", 0))


def _order(change: StreamRecord, program: Program, day: Period, add: Add) -> None:
    new, old = change.new, change.old
    if new is None:
        return
    paid = int(new["order_minor"]) - int(new.get("refunded_minor", 0))
    before = 0 if old is None else int(old["order_minor"]) - int(old.get("refunded_minor", 0))
    add(day, "orders", 1 if old is None else 0)
    add(day, "member_gmv_minor", paid - before)
    add(TOTAL, "member_gmv_minor", paid - before)
    _reversed(change, program, day, add)
    # The orders its campaigns applied to (a checkout's count their orders from the checkout item).
    for cid in new.get("campaigns_applied") or []:
        _to_campaign(add, day, str(cid), "orders", 1 if old is None else 0)
    for cid in [*(new.get("campaigns_applied") or []), *(new.get("checkout_campaigns") or [])]:
        _to_campaign(add, day, str(cid), "gmv_minor", paid - before)
    _shadowed(change, program, day, add)


def _shadowed(change: StreamRecord, program: Program, day: Period, add: Add) -> None:
    """A shadow run's figures of the event a reference answers, counted when it is written (rules/shadow)."""
    kept = (change.new or {}).get("shadow")
    if change.old is not None or not kept:
        return
    for cid, counts in shadow.deltas(kept).items():
        for name, value in counts.items():
            add(("shadow", f"{kept['draft_id']}#{cid}"), name, int(value))


def _reversed(change: StreamRecord, program: Program, day: Period, add: Add) -> None:
    """What a reference says its write took back of each campaign's points (`campaigns_reversed`:
    an order's refunds so far, a redemption cancel's), counted by what it adds."""
    new, old = change.new, change.old
    if new is None:
        return
    taken_before = (old or {}).get("campaigns_reversed") or {}
    for cid, taken in (new.get("campaigns_reversed") or {}).items():
        _to_campaign(add, day, str(cid), "points_reversed", int(taken) - int(taken_before.get(cid, 0)))


_BY_KIND: dict[str, Callable[[StreamRecord, Program, Period, Add], None]] = {
    "member": _member,
    "ledger": _ledger,
    "coupon": _coupon,
    "notice": _notice,
    "order": _order,
    "redemption_cancel": _reversed,
    "referral_cancel": _reversed,  # a cancelled referral's referral_converted campaign points
    "activity": _shadowed,
    "checkout": _checkout,
    "guest_order": guests.order,
    "guest": guests.customer,
}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(
    program: Program, days: list[dict[str, Any]], months: list[dict[str, Any]], total: dict[str, Any]
) -> dict[str, Any]:
    """The contract's health figures from the counters of a range's days, its months and the totals."""

    def summed(rows: list[dict[str, Any]], name: str) -> int:
        return sum(int(r.get(name, 0)) for r in rows)

    members = int(total.get("members", 0))
    buyers = summed(months, "buyers")
    points = int(total.get("points", 0))
    value = program.points.value
    tiers = [level.id for level in program.tiers.levels] if program.tiers else []
    gmv_all = int(total.get("member_gmv_minor", 0))
    return {
        "members": members,
        "new_members": summed(days, "new_members"),
        # Members who bought in the range's months, over all members (distinct per month).
        "active_rate": _rate(buyers, members * max(len(months), 1)),
        "coupon_redemption_rate": _rate(summed(days, "coupons_used"), summed(days, "coupons_issued")),
        "points_consumption_rate": _rate(summed(days, "points_redeemed"), summed(days, "points_earned")),
        "repurchase_rate": _rate(summed(months, "repeat_buyers"), buyers),
        "member_gmv_minor": summed(days, "member_gmv_minor"),
        "orders": summed(days, "orders"),
        "members_flagged": summed(days, "members_flagged"),  # per day flagged: a member twice on two days
        "discount_minor": _discounts(days),
        "points_liability": {
            "points": points,
            "worth_minor": points * value.worth_minor // value.points,
            "pending": int(total.get("points_pending", 0)),
        },
        "members_per_tier": {tier: int(total.get(f"tier:{tier}", 0)) for tier in tiers},
        "members_per_segment": {
            key.removeprefix("segment:"): int(n) for key, n in total.items() if key.startswith("segment:") and int(n)
        },
        # Historical value per member to date: all member GMV over all members.
        "clv_minor": gmv_all // members if members else 0,
    }


def guest_figures(days: list[dict[str, Any]], start: date) -> dict[str, Any]:
    """Guest GMV, the members' share of all GMV, the conversion rate and new members by channel, from
    the range's day counters (rules/guests.py)."""
    found = guests.counts(days, start)
    member_gmv = sum(int(d.get("member_gmv_minor", 0)) for d in days)
    return {
        **found,
        "member_gmv_share": _rate(member_gmv, member_gmv + found["guest_gmv_minor"]),
        "conversion_rate": _rate(found["converted_guests"], found["guest_customers"]),
    }


def _discounts(days: list[dict[str, Any]]) -> dict[str, int]:
    """Confirmed checkouts' money off by source over the days."""
    return {s: sum(int(d.get(f"discount:{s}", 0)) for d in days) for s in checkout.SOURCES}


def month_keys(start: date, end: date) -> list[str]:
    """The months a day range touches, oldest first."""
    keys, month = [], start.replace(day=1)
    while month <= end:
        keys.append(clock.month_key(month))
        month = clock.add_months(month, 1)
    return keys


DAY_COUNTERS = (
    "new_members",
    "members_erased",
    "orders",
    "member_gmv_minor",
    "points_earned",
    "points_redeemed",
    "points_expired",
    "points_reversed",
    "points_adjusted",
    "points_restored",
    "coupons_issued",
    "coupons_used",
)


def _net_points(row: dict[str, Any]) -> int:
    n = {k: int(row.get(k, 0)) for k in DAY_COUNTERS}
    spent = n["points_redeemed"] - n["points_restored"]  # points spent that came back (a refund, a cancel)
    return n["points_earned"] - spent - n["points_expired"] - n["points_reversed"] + n["points_adjusted"]


def series(by_day: dict[str, dict[str, Any]], total: dict[str, Any], start: date, end: date) -> list[dict[str, Any]]:
    """One row per day from `start` to `end`: that day's counters and, as of its end, the members and
    the points outstanding, worked back from the running totals. `by_day` holds the day counters from
    `start` up to today (the days after `end` are what separates its totals from today's)."""
    members, points = int(total.get("members", 0)), int(total.get("points", 0))
    out: list[dict[str, Any]] = []
    day = max([end] + [date.fromisoformat(d) for d in by_day])
    while day >= start:
        row = by_day.get(day.isoformat(), {})
        if day <= end:
            counters = {k: int(row.get(k, 0)) for k in DAY_COUNTERS}
            out.append(
                {
                    "day": day.isoformat(),
                    **counters,
                    "discount_minor": _discounts([row]),
                    "members": members,
                    "points_liability": points,
                }
            )
        members -= int(row.get("new_members", 0)) - int(row.get("members_erased", 0))
        points -= _net_points(row)
        day -= timedelta(days=1)
    return out[::-1]
