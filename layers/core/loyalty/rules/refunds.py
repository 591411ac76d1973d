"""What a refund gives back and takes back (API.md "Points held, and given back"), from what the order's
reference keeps: its lines, the points each campaign gave (and on which lines), the points it was paid
with, and what earlier refunds already took. Every share is cumulative (this refund's part is what all
refunds so far should have taken less what earlier ones took), so repeated partial refunds round as
one full refund does and never take or give more than the order had.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from .. import clock
from ..errors import LimitReached, ValidationFailed
from . import distribute
from .posting import Change


@dataclass(frozen=True)
class Line:
    line_id: str
    amount_minor: int
    quantity: int


@dataclass
class Refunded:
    """Where the order stands after this refund: what the reference will say, and this refund's money."""

    amount_minor: int  # this refund's money
    refunded_minor: int  # the order's, over all its refunds
    by_amount_minor: int  # of that, refunded by amount (an amount refund takes its share of every line)
    units: list[int]  # units refunded per line, over all its refunds
    lines: list[Line] = field(default_factory=list)
    order_minor: int = 0
    # A refund by lines: this refund's units and money per line index (None: by amount, every line alike).
    this_lines: dict[int, tuple[int, int]] | None = None
    line_minor: list[int] = field(default_factory=list)  # money refunded per line, over all its refunds

    @property
    def full(self) -> bool:
        """Everything refunded: all the money, or (an order of 0, paid with points) every unit."""
        if self.order_minor:
            return self.refunded_minor >= self.order_minor
        return bool(self.lines) and all(u >= ln.quantity for u, ln in zip(self.units, self.lines, strict=True))

    @property
    def share(self) -> Fraction:
        """The refunded part of the order: its money (by units for an order of 0)."""
        if self.full:
            return Fraction(1)
        if self.order_minor:
            return Fraction(self.refunded_minor, self.order_minor)
        bought = sum(ln.quantity for ln in self.lines)
        return Fraction(sum(self.units), bought) if bought else Fraction(0)

    def line_share(self, k: int) -> Fraction:
        """The refunded part of line k: of its money (by units for a line of 0)."""
        if self.full:
            return Fraction(1)
        line = self.lines[k]
        if line.amount_minor and self.line_minor:
            return Fraction(self.line_minor[k], line.amount_minor)
        return Fraction(self.units[k], line.quantity)


def lines(order: dict[str, Any]) -> list[Line]:
    """The order's lines as its purchase recorded them ([sku, category, amount, quantity, line_id];
    an order recorded before line ids has positions)."""
    kept = (order.get("order_facts") or {}).get("items", [])
    return [Line(str(i[4]) if len(i) > 4 else str(k), int(i[2]), int(i[3])) for k, i in enumerate(kept, 1)]


def refund_time(order: dict[str, Any], refunded_at: datetime) -> datetime:
    """When the refund counts as made: not before the order was paid (422 naming `refunded_at`), but
    within the clocks' drift (clock.FUTURE_SLACK) of it, at the order's time, as a purchase a little
    before its enrolment counts at the enrolment. An order recorded before its time was kept: as sent."""
    paid = order.get("paid_at")
    if not paid:
        return refunded_at
    paid_at = datetime.fromisoformat(paid)
    if refunded_at >= paid_at:
        return refunded_at
    if refunded_at < paid_at - clock.FUTURE_SLACK:
        raise ValidationFailed(
            f"refunded_at: before the order was paid ({paid})",
            [{"field": "refunded_at", "message": f"must not be before the order was paid ({paid})", "paid_at": paid}],
        )
    return paid_at


def by_amount(order: dict[str, Any], amount_minor: int) -> Refunded:
    """A refund of an amount: 422 for more than is left."""
    order_lines, before = lines(order), int(order["refunded_minor"])
    left = int(order["order_minor"]) - before
    if amount_minor > left:
        raise ValidationFailed.field("amount_minor", f"exceeds what is left to refund on the order ({left})")
    units = list(order.get("lines_refunded") or [0] * len(order_lines))
    done = int(order.get("amount_refunded_minor", 0)) + amount_minor
    # Its share of every line: of what is left of each, beside what is left of the rest of the order.
    money = line_money(order, order_lines, units)
    line_left = [ln.amount_minor - m for ln, m in zip(order_lines, money, strict=True)]
    shares = distribute.proportional(amount_minor, [*line_left, max(0, left - sum(line_left))])
    money = [m + n for m, n in zip(money, shares, strict=False)]
    order_minor = int(order["order_minor"])
    return Refunded(amount_minor, before + amount_minor, done, units, order_lines, order_minor, None, money)


def line_money(order: dict[str, Any], order_lines: list[Line], units: list[int]) -> list[int]:
    """The money each line has given back so far (an order refunded before this was kept: its units'
    part, or the refunds by amount's share, whichever is more)."""
    kept = order.get("lines_refunded_minor")
    if kept is not None:
        return [int(m) for m in kept]
    order_minor = int(order["order_minor"])
    by = Fraction(int(order.get("amount_refunded_minor", 0)), order_minor) if order_minor else Fraction(0)
    pairs = zip(order_lines, units, strict=True)
    return [math.floor(ln.amount_minor * max(Fraction(u, ln.quantity), by)) for ln, u in pairs]


def by_lines(order: dict[str, Any], asked: list[tuple[str, int]]) -> Refunded:
    """A refund of units of lines: each line's paid amount shared over its units (cumulatively, so a
    line never refunds more than it cost); 422 for a line the order has not, 409 limit_reached for more
    units than bought counting earlier refunds. Units give back their part of what is left of their
    line (a refund by amount took its share of every line), never money past what is left on the
    order."""
    order_lines = lines(order)
    index = {ln.line_id: k for k, ln in enumerate(order_lines)}
    units = list(order.get("lines_refunded") or [0] * len(order_lines))
    before_minor, order_minor = int(order["refunded_minor"]), int(order["order_minor"])
    by = int(order.get("amount_refunded_minor", 0))
    given = line_money(order, order_lines, units)  # what each line gave back so far, by amount and by units
    money, this_lines = 0, {}
    for k, (line_id, quantity) in enumerate(asked):
        at = index.get(line_id)
        if at is None:
            raise ValidationFailed.field(f"items[{k}].line_id", f"the order has no line {line_id!r}")
        line, before = order_lines[at], units[at]
        if before + quantity > line.quantity:
            left = line.quantity - before
            raise LimitReached(
                f"items[{k}]: {quantity} units of line {line_id!r}, {left} left to refund",
                [{"field": f"items[{k}]", "message": f"{left} of {line.quantity} units left to refund"}],
            )
        units[at] = before + quantity
        # these units' part of what is left of the line (the last units: all of it), so no line gives
        # back more than it cost, whatever came back by amount before
        unpaid = line.amount_minor - given[at]
        share = unpaid if units[at] == line.quantity else unpaid * quantity // (line.quantity - before)
        money, this_lines[at] = money + share, (quantity, share)
    if 0 < order_minor <= before_minor:  # all its money came back already (refunds by amount)
        raise LimitReached(
            "items: the order is refunded in full", [{"field": "items", "message": "nothing left to refund"}]
        )
    if order_minor and money > order_minor - before_minor:  # refunds by amount took some: lines keep their part
        at = list(this_lines)
        shares = distribute.proportional(order_minor - before_minor, [this_lines[k][1] for k in at])
        this_lines = {k: (this_lines[k][0], n) for k, n in zip(at, shares, strict=True)}
        money = order_minor - before_minor
    for k, (_, n) in this_lines.items():
        given[k] += n
    return Refunded(money, before_minor + money, by, units, order_lines, order_minor, this_lines, given)


def refunded_facts(order: dict[str, Any], r: Refunded) -> dict[str, Any]:
    """The order facts a refund's campaigns see (campaigns.refunded reads them): a refund by lines
    shows only its lines, each with the units and the money this refund gives back; a refund by amount
    cannot say which lines it was for, so it shows them all."""
    kept = dict(order.get("order_facts") or {})
    if r.this_lines is None:
        return kept
    items = kept.get("items", [])
    kept["items"] = [[*items[k][:2], money, quantity, *items[k][4:]] for k, (quantity, money) in r.this_lines.items()]
    return kept


def _part(points: int, share: Fraction) -> int:
    return math.floor(points * share)


def points_owed(order: dict[str, Any], r: Refunded) -> tuple[int, dict[str, int]]:
    """What the order's points this refund takes back: (in all, by campaign). The earn, the first
    order bonus and a campaign's order-wide points follow the money (`share`); a campaign's points on
    items (`on_items`) follow their lines (`line_share`). An order recorded before campaigns were kept
    apart follows the money, as it always did."""
    given: dict[str, int] = order.get("campaign_points") or {}
    on_lines: dict[str, dict[str, int]] = order.get("item_points") or {}
    taken: dict[str, int] = order.get("campaigns_reversed") or {}
    by_campaign = {}
    for cid, points in given.items():
        items = on_lines.get(cid, {})
        target = _part(points - sum(items.values()), r.share)
        target += sum(_part(p, r.line_share(int(k))) for k, p in items.items())
        by_campaign[cid] = max(0, target - int(taken.get(cid, 0)))
    base = int(order["order_points"]) - sum(given.values())
    base_taken = int(order["points_reversed"]) - sum(int(n) for n in taken.values())
    owed = max(0, _part(base, r.share) - base_taken) + sum(by_campaign.values())
    return owed, {cid: n for cid, n in by_campaign.items() if n}


def followed(kept: dict[str, Any], points: list[tuple[str, int]]) -> dict[str, Any]:
    """What an order's reference keeps of the campaigns its own write set off (`tier_changed` by its
    upgrade, `tag_added` by a tag its campaigns added: `points` by campaign, one per application):
    their points become the order's campaign points, so a refund takes them back in proportion like
    the others (API.md: a refund reverses a campaign's effects as it reverses base points), else a
    purchase refunded in full would keep them and could be repeated for more. `campaigns_followed`
    names them: they were credited at once, never pending (`by_part`)."""
    points = [(cid, n) for cid, n in points if n]
    if not points:
        return {}
    given = dict(kept.get("campaign_points") or {})
    for cid, n in points:
        given[cid] = int(given.get(cid, 0)) + n
    names = list(dict.fromkeys(cid for cid, _ in points))
    total = int(kept["order_points"]) + sum(n for _, n in points)
    return {"campaign_points": given, "order_points": total, "campaigns_followed": names}


def by_part(order: dict[str, Any], by_campaign: dict[str, int]) -> tuple[dict[str, int], int]:
    """(what a refund takes of each campaign's points that may still be pending, what it takes of the
    campaigns' credited at once): those of the campaigns the order's write set off were never
    pending, so their share comes from the balance, not from the order's pending points."""
    at_once = set(order.get("campaigns_followed") or [])
    parts = {cid: n for cid, n in by_campaign.items() if cid not in at_once}
    return parts, sum(n for cid, n in by_campaign.items() if cid in at_once)


def restore_paid(
    change: Change, order: dict[str, Any], r: Refunded, at: datetime, ref: str, reason: str
) -> tuple[int, int, dict[str, int]]:
    """The points the order was paid with (a checkout's `points_paid`, by bucket) come back in
    proportion to the refunded share, into their buckets (Change.restore; an expired bucket gives
    nothing). Returns (restored, lapsed, what every refund so far handled per bucket)."""
    paid: dict[str, int] = order.get("points_paid") or {}
    handled = dict(order.get("paid_restored") or {})
    back = {day: _part(n, r.share) - int(handled.get(day, 0)) for day, n in paid.items()}
    back = {day: n for day, n in back.items() if n > 0}
    if not back:
        return 0, 0, handled
    restored, lapsed = change.restore(back, at, ref, reason)
    for day, n in back.items():
        handled[day] = int(handled.get(day, 0)) + n
    return restored, lapsed, handled


def coupons_back(order: dict[str, Any], r: Refunded) -> tuple[list[str], list[str]]:
    """A full refund: the coupons the order used (to make available again) and the unused ones its
    campaigns gave (to revoke), as its reference lists them; nothing before it is full."""
    if not r.full:
        return [], []
    used = [*(order.get("coupons_used") or []), *(order.get("till_coupons") or [])]  # at its checkout, at a till
    return list(dict.fromkeys(used)), list(order.get("campaign_coupons") or [])
