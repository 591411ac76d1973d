"""Paid-card pricing: warnings for the program PUT, and the return at several redemption rates.

Warnings, not errors: a merchant may price a card under its benefits on purpose (a loss leader). What a
card costs is the face value of the benefits members actually redeem; what it brings is its price.
"""

from __future__ import annotations

from ..program import CouponTemplate, Grant, PaidCardPlan, Program

RATES = (30, 50, 80)  # percent of the benefits' face value that members redeem


def coupon_face(program: Program, template: CouponTemplate) -> int:
    """A coupon's face value; a percentage is valued on the expected average order, up to its cap."""
    if template.kind != "percent_off":
        return template.value_minor
    aov = program.expected_average_order_minor
    if aov is None:
        return template.max_off_minor or 0
    off = aov * (template.percent_off or 0) // 100
    return min(off, template.max_off_minor) if template.max_off_minor is not None else off


def grant_face(program: Program, grant: Grant | None) -> int:
    if grant is None:
        return 0
    value = program.points.value
    points = grant.points * value.worth_minor // value.points
    return points + sum(coupon_face(program, program.coupons[c]) for c in grant.coupons if c in program.coupons)


def first_cycle_face(program: Program, plan: PaidCardPlan) -> int:
    """What a member gets on the day of purchase: the pack, and an identity card's first cycle."""
    cycle = grant_face(program, plan.every_cycle) if plan.cycles else 0
    return grant_face(program, plan.on_purchase) + cycle


def payment_face(program: Program, plan: PaidCardPlan) -> int:
    """Everything one payment brings over its period."""
    return grant_face(program, plan.on_purchase) + plan.cycles * grant_face(program, plan.every_cycle)


def warnings(program: Program) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    aov = program.expected_average_order_minor
    if program.paid_cards and aov is None:
        found.append(
            {
                "field": "expected_average_order_minor",
                "message": "set it to check card prices against what a member spends on an order",
            }
        )
    for i, plan in enumerate(program.paid_cards):
        face = first_cycle_face(program, plan)
        if face <= plan.price_minor:
            found.append(
                {
                    "field": f"paid_cards[{i}].price_minor",
                    "message": f"a cycle's benefits are worth {face}, not more than the price {plan.price_minor}:"
                    " members may not see the card pay for itself",
                }
            )
        if aov is not None and plan.price_minor >= aov:
            found.append(
                {
                    "field": f"paid_cards[{i}].price_minor",
                    "message": f"the price {plan.price_minor} is not under the expected average order {aov}",
                }
            )
    return found


def roi(program: Program, rates: tuple[int, ...] = RATES) -> list[dict[str, object]]:
    """Per plan and redemption rate: what the redeemed benefits cost and what the card nets."""
    table: list[dict[str, object]] = []
    for plan in program.paid_cards:
        face = payment_face(program, plan)
        rows = []
        for rate in rates:
            cost = face * rate // 100
            net = plan.price_minor - cost
            rows.append(
                {
                    "redemption_rate_percent": rate,
                    "benefits_cost_minor": cost,
                    "net_minor": net,
                    "roi_percent": net * 100 // cost if cost else None,
                }
            )
        table.append({"plan_id": plan.id, "price_minor": plan.price_minor, "benefits_face_minor": face, "rows": rows})
    return table
