"""Checkout pricing (API.md "Checkout: the engine prices the sale"): a pure rule over the cart, the
member, its coupons and the program, run by a checkout's PUT, the member's preview and the confirm.

The order is fixed, each step on what the one before left: member price -> checkout campaigns by
priority (an `exclusive` one that holds stops lower ones) -> coupons in the order sent -> points.
Eligibility (active, limits, `when`, budget) is decided apart from the effects; each effect kind is one
small function of what the lines still cost (`_EFFECTS`), and every amount lands on the lines it
lowered with its source, through one integer distributor (rules/distribute.py), so lines sum to the
totals exactly and a refund by line is exact. State the rule cannot read (other checkouts' holds,
budgets left) is an input: the use case reads it with the profile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import clock
from ..errors import InsufficientPoints, NotEligible, ValidationFailed
from ..member import Coupon, Profile
from ..program import MAX_ORDER_ITEMS, Effect, Program
from . import campaigns, expressions
from .distribute import proportional
from .spending import shown_status

MAX_AMOUNT = 10**12


@dataclass(frozen=True)
class Item:
    """One line of the cart, as the till sends it."""

    line_id: str
    sku: str
    quantity: int
    unit_price_minor: int
    category: str = ""
    member_price_minor: int | None = None  # the catalogue's member price of one unit


@dataclass(frozen=True)
class Cart:
    items: list[Item]
    store_id: str = ""
    channel: str = ""
    scene: str = ""
    coupon_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Held:
    """What the rule cannot see on its own: other open checkouts' holds, and budgets left."""

    coupon_ids: frozenset[str] = frozenset()  # held by another open checkout of the member
    points: int = 0  # held by other open checkouts of the member
    budgets_left: dict[str, int] = field(default_factory=dict)  # campaign id -> discount_minor left


@dataclass
class Line:
    item: Item
    amount_minor: int
    payable_minor: int
    discounts: list[tuple[str, int]] = field(default_factory=list)  # (source, amount_minor), in order taken

    def take(self, source: str, amount: int) -> None:
        if amount > 0:
            self.discounts.append((source, amount))
            self.payable_minor -= amount


@dataclass
class Priced:
    lines: list[Line]
    points_used: int = 0
    points_value_minor: int = 0
    points_usable_max: int = 0
    coupons: list[dict[str, Any]] = field(default_factory=list)  # coupon_id, applied, discount_minor | reason
    campaigns: list[dict[str, Any]] = field(default_factory=list)  # campaign_id, discount_minor
    campaigns_skipped: list[dict[str, str]] = field(default_factory=list)  # campaign_id, reason
    gifts: list[dict[str, Any]] = field(default_factory=list)  # sku, quantity, campaign_id

    @property
    def subtotal_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)

    @property
    def total_minor(self) -> int:
        return sum(line.payable_minor for line in self.lines)

    def view(self) -> dict[str, Any]:
        """The contract's priced checkout, without what the use case adds (checkout_id, status,
        expires_at, points_to_earn)."""
        return {
            "lines": [
                {
                    "line_id": ln.item.line_id,
                    "sku": ln.item.sku,
                    "quantity": ln.item.quantity,
                    "unit_price_minor": ln.item.unit_price_minor,
                    "amount_minor": ln.amount_minor,
                    "discounts": [{"source": s, "amount_minor": a} for s, a in ln.discounts],
                    "payable_minor": ln.payable_minor,
                }
                for ln in self.lines
            ],
            "subtotal_minor": self.subtotal_minor,
            "discount_minor": self.subtotal_minor - self.total_minor,
            "points_used": self.points_used,
            "points_value_minor": self.points_value_minor,
            "total_minor": self.total_minor,
            "points_usable_max": self.points_usable_max,
            "coupons": self.coupons,
            "campaigns": self.campaigns,
            "campaigns_skipped": self.campaigns_skipped,
            "gifts": self.gifts,
        }


def price(
    program: Program,
    profile: Profile,
    cart: Cart,
    coupons: dict[str, Coupon],
    points_to_use: int,
    at: datetime,
    held: Held | None = None,
) -> Priced:
    """The cart priced for this member at `at`. `coupons`: the member's, by id (an id sent that is not
    there is a 422 naming it). Raises NotEligible (a restricted line), ValidationFailed (the cart, or
    points over `points_usable_max`), InsufficientPoints (over the balance others do not hold)."""
    held = held or Held()
    check_cart(cart, coupons)
    items = [_item_facts(item) for item in cart.items]
    order = campaigns.Order(sum(i["amount_minor"] for i in items), items, cart.store_id, cart.channel, cart.scene)
    act = expressions.activation(campaigns.facts(program, profile, campaigns.Event("checkout", at, "", order), None))
    check_restricted(program, act, items, at)
    priced = Priced(
        [Line(item, f["amount_minor"], f["amount_minor"]) for item, f in zip(cart.items, items, strict=True)]
    )
    chosen = _eligible(program, profile, act, at, held, priced)
    _member_prices(chosen, act, items, priced)
    for r in chosen:
        _campaign(r, act, items, held, priced)
    for k, coupon_id in enumerate(cart.coupon_ids):
        _coupon(program, coupons[coupon_id], act, items, at, cart.scene, held, priced, k)
    _points(program, profile, points_to_use, held, priced)
    return priced


def check_cart(cart: Cart, coupons: dict[str, Coupon]) -> None:
    """What the request's schema cannot say alone: every problem, each naming its field."""
    found: list[dict[str, Any]] = []
    if not 1 <= len(cart.items) <= MAX_ORDER_ITEMS:
        found.append({"field": "items", "message": f"1 to {MAX_ORDER_ITEMS} lines"})
    seen: set[str] = set()
    for k, item in enumerate(cart.items):
        if item.line_id in seen:
            found.append({"field": f"items[{k}].line_id", "message": f"duplicate line_id {item.line_id!r}"})
        seen.add(item.line_id)
        if item.quantity < 1:
            found.append({"field": f"items[{k}].quantity", "message": "at least 1"})
        if item.unit_price_minor * item.quantity > MAX_AMOUNT:
            found.append({"field": f"items[{k}].quantity", "message": f"the line's amount is over {MAX_AMOUNT}"})
        if item.member_price_minor is not None and item.member_price_minor > item.unit_price_minor:
            found.append({"field": f"items[{k}].member_price_minor", "message": "at most unit_price_minor"})
    if not found and sum(i.unit_price_minor * i.quantity for i in cart.items) > MAX_AMOUNT:
        # No payment could settle it (money is at most 10^12).
        found.append({"field": "items", "message": f"the cart's subtotal is over {MAX_AMOUNT}"})
    for k, coupon_id in enumerate(cart.coupon_ids):
        if coupon_id not in coupons:
            found.append({"field": f"coupon_ids[{k}]", "message": f"no coupon {coupon_id!r} of this member"})
        elif coupon_id in cart.coupon_ids[:k]:
            found.append({"field": f"coupon_ids[{k}]", "message": f"coupon {coupon_id!r} sent twice"})
    if found:
        raise ValidationFailed(f"the cart has {len(found)} problem(s)", found)


def _item_facts(item: Item) -> dict[str, Any]:
    """A line as checkout expressions see it (rules/expressions.CHECKOUT_ITEM)."""
    member = item.member_price_minor if item.member_price_minor is not None else item.unit_price_minor
    return {
        "sku": item.sku,
        "category": item.category,
        "quantity": item.quantity,
        "unit_price_minor": item.unit_price_minor,
        "member_price_minor": member,
        "amount_minor": item.unit_price_minor * item.quantity,
    }


# ---- the program's checkout expressions, compiled once per Program object -------------------------


@dataclass(frozen=True)
class _Compiled:
    applies_to: dict[str, expressions.Compiled]  # coupon template id -> its item condition
    restricted: list[tuple[datetime | None, expressions.Compiled, expressions.Compiled]]  # until, on_items, who


def _compiled(program: Program) -> _Compiled:
    cached: _Compiled | None = program.derived.get("checkout")
    if cached is None:
        applies = {t: expressions.compile(c.applies_to) for t, c in program.coupons.items() if c.applies_to}
        zone = program.zone
        restricted = [
            (
                r.until and (r.until if r.until.tzinfo else r.until.replace(tzinfo=zone)),
                *map(expressions.compile, (r.on_items, r.who)),
            )
            for r in program.pricing.restricted
        ]
        cached = program.derived["checkout"] = _Compiled(applies, restricted)
    return cached


def check_restricted(program: Program, act: Any, items: list[dict[str, Any]], at: datetime) -> None:
    """NotEligible naming every line of a restricted item this member may not buy yet."""
    refused: list[dict[str, str]] = []
    for until, on_items, who in _compiled(program).restricted:
        if until is not None and at >= until:
            continue  # early access is over: anyone may buy it
        lines = [k for k, item in enumerate(items) if expressions.test(on_items, act, item)]
        if lines and not expressions.test(who, act):
            refused += [{"field": f"items[{k}]", "message": "not available to this member"} for k in lines]
    if refused:
        fields = ", ".join(r["field"] for r in refused)
        raise NotEligible(f"{fields}: restricted to other members", refused)


def applies(
    program: Program, profile: Profile, template_id: str, items: list[dict[str, Any]], at: datetime
) -> list[bool] | None:
    """Which lines of an order a coupon of this template discounts at a till (its `applies_to`, on the
    facts a checkout gives it); None for a template without one: the whole order. `items`: a purchase's
    lines (sku, category, quantity, amount_minor); a line's unit price is its amount over its quantity
    (rounded down), the order's amount the lines' sum."""
    on_items = _compiled(program).applies_to.get(template_id)
    if on_items is None:
        return None
    lines = []
    for item in items:
        quantity, amount = item.get("quantity") or 1, item["amount_minor"]
        unit = amount // quantity
        lines.append(
            {
                "sku": item["sku"],
                "category": item.get("category") or "",
                "quantity": quantity,
                "unit_price_minor": unit,
                "member_price_minor": unit,
                "amount_minor": amount,
            }
        )
    order = campaigns.Order(sum(line["amount_minor"] for line in lines), lines)
    act = expressions.activation(campaigns.facts(program, profile, campaigns.Event("checkout", at, "", order), None))
    return _matching(on_items, act, lines)


def _matching(on_items: expressions.Compiled | None, act: Any, items: list[dict[str, Any]]) -> list[bool]:
    return [True] * len(items) if on_items is None else [expressions.test(on_items, act, i) for i in items]


# ---- campaigns ---------------------------------------------------------------------------------------


def _eligible(
    program: Program, profile: Profile, act: Any, at: datetime, held: Held, priced: Priced
) -> list[campaigns.Ready]:
    """The checkout campaigns that hold, by priority, down to the first exclusive one that does; the
    rest in `campaigns_skipped` with why."""
    chosen: list[campaigns.Ready] = []
    stopped_by: str | None = None
    today = clock.local_date(at, program.zone)
    for r in campaigns.ready(program).get("checkout", []):
        c = r.campaign
        view = act.for_campaign(campaigns.campaign_facts(profile, c.id)) if r.per_campaign else act
        if stopped_by is not None:
            reason = f"excluded by {stopped_by}"
        elif not campaigns.active(c, at, program):
            reason = "not active"
        elif campaigns.limit_reached(program, profile, c, at, today):
            reason = "limit reached"
        elif held.budgets_left.get(c.id, 1) <= 0:
            reason = "budget spent"
        elif not expressions.test(r.when, view):
            reason = "condition not met"
        else:
            chosen.append(r)
            stopped_by = c.id if c.exclusive else None
            continue
        priced.campaigns_skipped.append({"campaign_id": c.id, "reason": reason})
    return chosen


def _member_prices(chosen: list[campaigns.Ready], act: Any, items: list[dict[str, Any]], priced: Priced) -> None:
    """Matching lines pay `member_price_minor` a unit, first whatever the campaign's priority."""
    done = [False] * len(items)
    for r in chosen:
        for effect, on_items in zip(r.campaign.effects, r.on_items, strict=True):
            if effect.member_price is None:
                continue
            for k, match in enumerate(_matching(on_items, act, items)):
                line = priced.lines[k]
                if match and not done[k] and line.item.member_price_minor is not None:
                    line.take(
                        "member_price", (line.item.unit_price_minor - line.item.member_price_minor) * line.item.quantity
                    )
                    done[k] = True


def _campaign(r: campaigns.Ready, act: Any, items: list[dict[str, Any]], held: Held, priced: Priced) -> None:
    """One campaign's discounts, each effect on what the one before left, capped by its budget left."""
    c = r.campaign
    left = [line.payable_minor for line in priced.lines]
    offs = [0] * len(left)
    gifts = [{"sku": g.sku, "quantity": g.quantity, "campaign_id": c.id} for e in c.effects for g in e.gift_items or []]
    for effect, on_items in zip(c.effects, r.on_items, strict=True):
        if (apply := _EFFECTS.get(effect.kind)) is not None:
            taken = apply(effect, _matching(on_items, act, items), left, priced.lines)
            left = [a - b for a, b in zip(left, taken, strict=True)]
            offs = [a + b for a, b in zip(offs, taken, strict=True)]
    budget = held.budgets_left.get(c.id)
    if budget is not None and sum(offs) > budget:
        offs = proportional(budget, offs)  # less left than the discount: what is left, spread likewise
    for line, off in zip(priced.lines, offs, strict=True):
        line.take(f"campaign:{c.id}", off)
    priced.gifts += gifts
    if sum(offs) or gifts:
        priced.campaigns.append({"campaign_id": c.id, "discount_minor": sum(offs)})
    elif any(e.kind in _EFFECTS for e in c.effects):
        priced.campaigns_skipped.append({"campaign_id": c.id, "reason": "nothing to discount on its lines"})
    # a campaign of member prices alone is not listed: its money off is on the lines as `member_price`


Apply = Callable[[Effect, list[bool], list[int], list[Line]], list[int]]


def _percent_off(effect: Effect, match: list[bool], left: list[int], lines: list[Line]) -> list[int]:
    offs = [a * (effect.percent_off or 0) // 100 if m else 0 for a, m in zip(left, match, strict=True)]
    cap = effect.max_off_minor
    return proportional(cap, offs) if cap is not None and sum(offs) > cap else offs


def _amount_off(effect: Effect, match: list[bool], left: list[int], lines: list[Line]) -> list[int]:
    return proportional(effect.amount_off_minor or 0, [a if m else 0 for a, m in zip(left, match, strict=True)])


def _free_units(effect: Effect, match: list[bool], left: list[int], lines: list[Line]) -> list[int]:
    """Matching units, dearest first (by unit price, then by what the unit still costs), in groups of
    buy + get: the `get` last of each full group are discounted. A line's units share what it still
    costs evenly (the odd minor units on its first ones), so a run of equal units is counted, not listed."""
    rule = effect.free_units
    assert rule is not None
    runs: list[tuple[int, int, int, int]] = []  # (unit price, unit still costs, line, units)
    for k, line in enumerate(lines):
        if match[k] and left[k] > 0:
            q = line.item.quantity
            base, odd = divmod(left[k], q)
            runs += [(line.item.unit_price_minor, base + 1, k, odd), (line.item.unit_price_minor, base, k, q - odd)]
    runs.sort(key=lambda run: (-run[0], -run[1]))
    group = rule.buy + rule.get
    end = sum(run[3] for run in runs) // group * group  # past the last full group, nothing is discounted

    def discounted(upto: int) -> int:  # discounted positions in [0, upto)
        upto = min(upto, end)
        return upto // group * rule.get + max(0, upto % group - rule.buy)

    offs = [0] * len(lines)
    start = 0
    for _, unit, k, units in runs:
        offs[k] += (discounted(start + units) - discounted(start)) * (unit * rule.percent_off // 100)
        start += units
    return offs


_EFFECTS: dict[str, Apply] = {"percent_off": _percent_off, "amount_off_minor": _amount_off, "free_units": _free_units}


# ---- coupons and points -------------------------------------------------------------------------------


def _coupon_refusal(coupon: Coupon, at: datetime, scene: str, held: Held) -> str | None:
    status = shown_status(coupon, at)
    if status != "available":
        return status
    if at < coupon.valid_from:
        return "not yet valid"
    if coupon.coupon_id in held.coupon_ids:
        return "held by another open checkout"
    if coupon.scene is not None and coupon.scene != scene:
        return f"for {coupon.scene} orders only"
    return None


def _coupon(
    program: Program,
    coupon: Coupon,
    act: Any,
    items: list[dict[str, Any]],
    at: datetime,
    scene: str,
    held: Held,
    priced: Priced,
    k: int,
) -> None:
    """One coupon on what its lines still cost; applied, or listed with why not."""
    entry: dict[str, Any] = {"coupon_id": coupon.coupon_id, "applied": False}
    priced.coupons.append(entry)
    if (reason := _coupon_refusal(coupon, at, scene, held)) is not None:
        entry["reason"] = reason
        return
    match = _matching(_compiled(program).applies_to.get(coupon.template_id), act, items)
    left = [line.payable_minor if m else 0 for line, m in zip(priced.lines, match, strict=True)]
    if not any(match) or not sum(left):
        entry["reason"] = "no line it applies to"
        return
    if sum(left) < coupon.min_spend_minor:
        entry["reason"] = "below the minimum spend of the lines it applies to"
        return
    if coupon.kind == "amount_off":
        offs = proportional(coupon.value_minor, left)
    elif coupon.kind == "percent_off":
        offs = [a * (coupon.percent_off or 0) // 100 for a in left]
        cap = coupon.max_off_minor
        offs = proportional(cap, offs) if cap is not None and sum(offs) > cap else offs
    else:
        offs = [0] * len(left)  # free_shipping, gift: the till gives the benefit; no money off the lines
    for line, off in zip(priced.lines, offs, strict=True):
        line.take(f"coupon:{coupon.coupon_id}", off)
    entry.update(applied=True, discount_minor=sum(offs))


def _points(program: Program, profile: Profile, points_to_use: int, held: Held, priced: Priced) -> None:
    """Points at `points.value`, at most the balance others do not hold and the program's share of
    what is left to pay; only the points that buy the money off are charged."""
    value = program.points.value
    free = max(0, profile.balance - held.points)
    share = priced.total_minor * value.max_order_share_percent // 100
    priced.points_usable_max = min(free, share * value.points // value.worth_minor)
    if points_to_use > free:
        refused = InsufficientPoints(points_to_use, free)
        refused.details[0]["field"] = "points_to_use"
        raise refused
    if points_to_use > priced.points_usable_max:
        most = priced.points_usable_max
        message = f"at most {most} points on this cart ({value.max_order_share_percent}% of what is left to pay)"
        raise ValidationFailed(
            f"points_to_use: {message}", [{"field": "points_to_use", "message": message, "max": most}]
        )
    money = points_to_use * value.worth_minor // value.points
    priced.points_value_minor = money
    priced.points_used = -(-money * value.points // value.worth_minor)  # ceiling: the points that buy it
    for line, off in zip(priced.lines, proportional(money, [ln.payable_minor for ln in priced.lines]), strict=True):
        line.take("points", off)


def paid_items(priced: Priced) -> list[dict[str, Any]]:
    """The lines as a purchase's items at what they pay: `points_to_earn` is what the purchase rules
    (rules/earning, the purchase campaigns) give an order of `total_minor` with these items, run on a
    scratch Change by the use case, as the confirm will run them for real."""
    return [
        {
            "line_id": ln.item.line_id,
            "sku": ln.item.sku,
            "category": ln.item.category,
            "quantity": ln.item.quantity,
            "amount_minor": ln.payable_minor,
        }
        for ln in priced.lines
    ]


SOURCES = ("member_price", "campaigns", "coupons", "points")  # program health's discount_minor, by source
_SOURCE_OF = {"member_price": "member_price", "campaign": "campaigns", "coupon": "coupons", "points": "points"}


def view_sources(view: dict[str, Any]) -> dict[str, int]:
    """Money off by source (program health's discount_minor: member_price, campaigns, coupons, points)
    of a pricing as answered and stored (`Priced.view()`, as a checkout item keeps it)."""
    out = dict.fromkeys(SOURCES, 0)
    for line in view["lines"]:
        for d in line["discounts"]:  # "campaign:gold-95" -> campaigns
            out[_SOURCE_OF[d["source"].split(":", 1)[0]]] += int(d["amount_minor"])
    return out
