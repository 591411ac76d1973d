"""Checkout (API.md "Checkout: the engine prices the sale"): a cart priced, held, then settled.

PUT prices the cart (rules/checkout.price) and holds what the member pays with on the profile
(rules/holds.py): 1 BatchGetItem (profile, the checkout, the coupons sent, the budgets) + 1
transaction (profile, checkout item, a ConditionCheck per coupon held, audit). The confirm prices it
again from what the PUT stored and commits the purchase it is: 1 BatchGetItem + 1 transaction that
releases the hold, spends the points, uses the coupons, takes the campaigns' budgets and limits and
writes the order's reference, so a refund names the order like any other.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .. import clock
from ..errors import (
    CheckoutChanged,
    CheckoutClosed,
    CheckoutExpired,
    Contention,
    NotFound,
    ValidationFailed,
)
from ..member import Checkout, Coupon, Hold, Profile
from ..program import Program
from ..rules import abuse, campaigns, checkout, holds
from ..rules.posting import Change
from ..schemas import (
    CheckoutBody,
    CheckoutCancelled,
    CheckoutConfirm,
    CheckoutConfirmed,
    CheckoutView,
    OrderItem,
    Purchase,
)
from ..store import CouponUse, MemberWrite, Stale, Store
from . import earning, programs
from .pipeline import Attempt, Built, Outcome, RefKey, commit, missing, once, retry

State = tuple[Profile, Checkout | None, dict[str, Coupon], dict[str, int]]  # profile, checkout, coupons, budgets taken


def cart_of(body: CheckoutBody) -> checkout.Cart:
    items = [
        checkout.Item(
            line_id=i.line_id,
            sku=i.sku,
            quantity=i.quantity,
            unit_price_minor=i.unit_price_minor,
            category=i.category or "",
            member_price_minor=i.member_price_minor,
        )
        for i in body.items
    ]
    return checkout.Cart(items, body.store_id or "", body.channel or "", body.scene or "", list(body.coupon_ids))


def budget_keys(program: Program, now: datetime) -> list[str]:
    """What a checkout reads with the profile: its campaigns' discount budgets, and the purchase's."""
    today = clock.local_date(now, program.zone)
    return campaigns.budget_keys(program, ("checkout",)) + earning.purchase_budget_keys(program, today)


def read(
    store: Store, program_id: str, member_id: str, checkout_id: str, coupon_ids: list[str], budgets: list[str]
) -> State:
    """The member, its checkout, the coupons named and the budgets, in one round trip; 404 for no member."""
    profile, chk, coupons, taken = store.get_member_checkout(program_id, member_id, checkout_id, coupon_ids, budgets)
    if profile is None:
        raise missing(member_id)
    return profile, chk, {c.coupon_id: c for c in coupons}, taken


def whole(profile: Profile, chk: Checkout | None, now: datetime) -> None:
    """A BatchGetItem is not isolated from a transaction: it may return the profile after a write of
    this checkout (a cancel, a confirm, a PUT) and the checkout's item before it. Every such write
    moves both, so an open checkout not yet expired has its hold, with its `expires_at`, on the
    profile; when it has not, the read straddled a write: read again (a lost race, as at commit)."""
    if chk is not None and chk.status == "open" and chk.expires_at > now:
        hold = profile.holds.get(chk.checkout_id)
        if hold is None or hold.expires_at != chk.expires_at:
            raise Stale({"profile"})


def held(program: Program, profile: Profile, taken: dict[str, int], now: datetime, but: str | None) -> checkout.Held:
    """What the pricing cannot see alone: other open checkouts' holds, and the discount budgets left."""
    left = {}
    for r in campaigns.ready(program).get("checkout", []):
        limit = campaigns.budget_limits(r.campaign).get("discount_minor")
        if limit is not None:
            left[r.campaign.id] = limit - taken.get(campaigns.campaign_budget_key(r.campaign, "discount_minor"), 0)
    return checkout.Held(holds.held_coupons(profile, now, but), holds.held_points(profile, now, but), left)


def as_purchase(cart: checkout.Cart, priced: checkout.Priced, order_id: str, paid_at: datetime | None) -> Purchase:
    """The order a confirm settles: what was paid in money, its lines at what they pay (the purchase's
    campaigns run on them). Built, not validated: a cart paid in full is an order of 0."""
    items = [
        OrderItem.model_construct(
            line_id=i["line_id"],
            sku=i["sku"],
            category=i["category"] or None,
            amount_minor=i["amount_minor"],
            quantity=i["quantity"],
        )
        for i in checkout.paid_items(priced)
    ]
    return Purchase.model_construct(
        order_id=order_id,
        amount_minor=priced.total_minor,
        paid_at=paid_at,
        items=items,
        store_id=cart.store_id or None,
        channel=cart.channel or None,
        scene=cart.scene or None,
    )


def priced_view(
    program: Program,
    profile: Profile,
    cart: checkout.Cart,
    priced: checkout.Priced,
    now: datetime,
    taken: dict[str, int],
) -> dict[str, Any]:
    """The pricing as answered, with `points_to_earn`: what the confirm's purchase would credit now."""
    order = as_purchase(cart, priced, "checkout", now)
    to_earn = earning.within_budgets(program, profile, order, now, now, taken)["points_earned"]
    return {**priced.view(), "points_to_earn": to_earn}


def answer(chk: Checkout, now: datetime) -> CheckoutView:
    return CheckoutView.model_validate(shown(chk, now))


def shown(chk: Checkout, now: datetime) -> dict[str, Any]:
    """The checkout as last priced; an open one past its `expires_at` reads `expired` (it holds nothing)."""
    status = "expired" if chk.status == "open" and chk.expires_at <= now else chk.status
    return {
        **chk.priced,
        "checkout_id": chk.checkout_id,
        "status": status,
        "expires_at": chk.expires_at,
        "order_id": chk.order_id,
    }


def not_found(checkout_id: str) -> NotFound:
    return NotFound(
        f"checkout {checkout_id!r} not found for this member", [{"field": "checkout_id", "message": "unknown checkout"}]
    )


def closed(chk: Checkout) -> CheckoutClosed:
    more = ": refund its order instead" if chk.status == "confirmed" else ""
    return CheckoutClosed(
        f"checkout {chk.checkout_id!r} is {chk.status}{more}", [{"field": "checkout_id", "status": chk.status}]
    )


def put(
    store: Store, program_id: str, member_id: str, checkout_id: str, body: CheckoutBody, now: datetime
) -> CheckoutView:
    """Open or re-price the checkout: its holds are replaced by what this pricing applies."""
    program = programs.load(store, program_id)
    cart, budgets = cart_of(body), budget_keys(program, now)

    def attempt(state: Attempt) -> CheckoutView:
        profile, current, coupons, taken = read(store, program_id, member_id, checkout_id, cart.coupon_ids, budgets)
        whole(profile, current, now)
        abuse.refuse_blocked(profile)
        if current is not None and current.status != "open":
            raise closed(current)
        holds.check_room(profile, checkout_id, now)
        priced = checkout.price(
            program, profile, cart, coupons, body.points_to_use, now, held(program, profile, taken, now, checkout_id)
        )
        applied = [c["coupon_id"] for c in priced.coupons if c["applied"]]
        expires_at = now + timedelta(minutes=program.pricing.hold_minutes)
        change = Change.start(program, profile, now, state.exhausted)
        change.profile.holds[checkout_id] = Hold(points=priced.points_used, coupon_ids=applied, expires_at=expires_at)
        chk = Checkout(
            checkout_id=checkout_id,
            member_id=member_id,
            expires_at=expires_at,
            updated_at=now,
            cart=body.model_dump(mode="json"),
            priced=priced_view(program, profile, cart, priced, now, taken),
            coupons=list(coupons.values()),
        )
        if unchanged(profile, current, change, chk):
            return answer(chk, now)  # a repeat of the same PUT (a client's retry) writes nothing more
        write = MemberWrite(
            change, profile.version, checkout=chk, coupons_free=applied, what="checkout", client_id=checkout_id
        )
        commit(store, write, program_id)
        return answer(chk, now)

    return retry(attempt, Contention("too many concurrent writes to this member; retry the request"))


def unchanged(profile: Profile, current: Checkout | None, change: Change, chk: Checkout) -> bool:
    """The PUT would write what is already there: the same checkout, the same profile but its version."""
    if current != chk:
        return False
    return change.profile.model_dump(exclude={"version"}) == profile.model_dump(exclude={"version"})


def preview(
    store: Store, program_id: str, member_id: str, checkout_id: str, body: CheckoutBody, now: datetime
) -> CheckoutView:
    """The member's own basket priced as a PUT would, nothing held nor written (status `preview`):
    what any open checkout holds is not the preview's to use."""
    program = programs.load(store, program_id)
    cart = cart_of(body)
    profile, _, coupons, taken = read(
        store, program_id, member_id, checkout_id, cart.coupon_ids, budget_keys(program, now)
    )
    priced = checkout.price(
        program, profile, cart, coupons, body.points_to_use, now, held(program, profile, taken, now, None)
    )
    view = priced_view(program, profile, cart, priced, now, taken)
    return CheckoutView.model_validate({**view, "checkout_id": checkout_id, "status": "preview"})


def get(store: Store, program_id: str, member_id: str, checkout_id: str, now: datetime) -> CheckoutView:
    programs.load(store, program_id)
    _, chk, _, _ = read(store, program_id, member_id, checkout_id, [], [])
    if chk is None:
        raise not_found(checkout_id)
    return answer(chk, now)


def cancel(store: Store, program_id: str, member_id: str, checkout_id: str, now: datetime) -> CheckoutCancelled:
    """Releases the holds; cancelling a cancelled one answers the same, a confirmed one is 409."""
    program = programs.load(store, program_id)
    done = CheckoutCancelled(checkout_id=checkout_id, status="cancelled")

    def attempt(state: Attempt) -> CheckoutCancelled:
        profile, chk, _, _ = read(store, program_id, member_id, checkout_id, [], [])
        whole(profile, chk, now)
        if chk is None:
            raise not_found(checkout_id)
        if chk.status == "cancelled":
            return done
        if chk.status != "open":
            raise closed(chk)
        change = Change.start(program, profile, now, state.exhausted)
        change.profile.holds.pop(checkout_id, None)
        ended = chk.model_copy(update={"status": "cancelled", "closed_at": now, "updated_at": now})
        commit(
            store,
            MemberWrite(
                change,
                profile.version,
                checkout=ended,
                checkout_changed=("status", "closed_at", "updated_at"),
                what="checkout_cancel",
                client_id=checkout_id,
            ),
            program_id,
        )
        return done

    return retry(attempt, Contention("too many concurrent writes to this member; retry the request"))


def confirm(
    store: Store, program_id: str, member_id: str, checkout_id: str, body: CheckoutConfirm, now: datetime
) -> Outcome[CheckoutConfirmed]:
    """Price again, then settle it as one purchase of what is paid in money; exactly once by order_id."""
    program = programs.load(store, program_id)
    paid_at = clock.event_time(body.paid_at, "paid_at", now)
    budgets = budget_keys(program, now)
    discount_keys = set(campaigns.budget_keys(program, ("checkout",)))
    stale_coupons: list[bool] = []  # a coupon changed since the PUT: read the coupons afresh

    def fetch() -> State:
        profile, chk, coupons, taken = read(store, program_id, member_id, checkout_id, [], budgets)
        whole(profile, chk, now)
        if chk is None or chk.status != "open" or chk.expires_at <= now:
            return profile, chk, coupons, taken  # refused (or a repeat answered) before any pricing
        ids = list(chk.cart.get("coupon_ids", []))
        hold = profile.holds.get(checkout_id)
        # Only the coupons this checkout holds are as the PUT read them; one it sent but did not hold
        # (another checkout held it) may have been used since: read those afresh (a second round trip).
        if stale_coupons or not set(ids) <= set(hold.coupon_ids if hold else ()):
            coupons = {c.coupon_id: c for c in store.get_coupons(program_id, member_id, ids)}
        else:
            coupons = {c.coupon_id: c for c in chk.coupons}
        return profile, chk, coupons, taken

    def build(state: State, attempt: Attempt) -> Built[CheckoutConfirmed]:
        profile, chk, coupons, taken = state
        abuse.refuse_blocked(profile)
        if chk is None:
            raise not_found(checkout_id)
        if chk.status != "open":
            raise closed(chk)  # a repeat of this confirm is answered from its order's reference
        if chk.expires_at <= now:
            raise CheckoutExpired(
                f"checkout {checkout_id!r} expired at {clock.iso(chk.expires_at)}: price it again",
                [{"field": "checkout_id", "expires_at": clock.iso(chk.expires_at)}],
            )
        cart = cart_of(CheckoutBody.model_validate(chk.cart))
        points = int(chk.cart.get("points_to_use", 0))
        priced = repriced(program, profile, cart, coupons, points, now, held(program, profile, taken, now, checkout_id))
        if priced.total_minor != body.amount_paid_minor:
            view = {**priced_view(program, profile, cart, priced, now, taken), "checkout_id": checkout_id}
            message = f"the checkout costs {priced.total_minor} now, not {body.amount_paid_minor}"
            detail = {
                "field": "amount_paid_minor",
                "message": message,
                "total_minor": priced.total_minor,
                "checkout": view,
            }
            raise CheckoutChanged(message, [detail])
        return settle(program, profile, chk, cart, priced, body, paid_at, now, attempt.exhausted - discount_keys)

    def on_stale(stale: Stale, _: MemberWrite) -> None:
        if "coupon" in stale.failed:
            stale_coupons.append(True)

    ref = RefKey("order", body.order_id, member_id)
    return once(store, program_id, ref, body, CheckoutConfirmed, build, fetch, on_stale)


def repriced(
    program: Program,
    profile: Profile,
    cart: checkout.Cart,
    coupons: dict[str, Coupon],
    points: int,
    now: datetime,
    others: checkout.Held,
) -> checkout.Priced:
    """The confirm's pricing: the points the PUT asked for may be over the cap now (a tier discount
    since left less to pay): then as many as fit, so the total moves and the confirm answers
    `checkout_changed` with that pricing, as any other change would, not a 422 on a field the
    confirm's body does not have. (Points no longer in the balance stay `insufficient_points`.)"""
    try:
        return checkout.price(program, profile, cart, coupons, points, now, others)
    except ValidationFailed as refused:
        # The refusal names the cap (`max`, as the contract's 422 does): no pricing just to learn it.
        most = next((d["max"] for d in refused.details if d.get("field") == "points_to_use"), None)
        if most is None:
            raise
    return checkout.price(program, profile, cart, coupons, most, now, others)


def settle(
    program: Program,
    profile: Profile,
    chk: Checkout,
    cart: checkout.Cart,
    priced: checkout.Priced,
    body: CheckoutConfirm,
    paid_at: datetime,
    now: datetime,
    exhausted: set[str],
) -> Built[CheckoutConfirmed]:
    """The confirm's one write: the hold released, the points spent, the checkout campaigns counted,
    then the purchase of what was paid in money, the coupons used and the checkout closed."""
    change = Change.start(program, profile, now, exhausted)
    change.profile.holds.pop(chk.checkout_id, None)
    source = f"checkout:{chk.checkout_id}"
    change.debit("redeem", priced.points_used, now, source)
    discounts = {c["campaign_id"]: c["discount_minor"] for c in priced.campaigns}
    first = campaigns.settle_checkout(change, discounts, now)
    order = as_purchase(cart, priced, body.order_id, paid_at)
    result, facts = earning.apply_purchase(change, order, earning.member_time(paid_at, profile))
    view = {**priced.view(), "points_to_earn": result["points_earned"]}
    settled = chk.model_copy(
        update={
            "status": "confirmed",
            "order_id": body.order_id,
            "closed_at": now,
            "updated_at": now,
            "priced": view,
            "first_campaigns": first,
        }
    )
    uses = [
        CouponUse(profile.member_id, c["coupon_id"], body.order_id, clock.iso(now), c["discount_minor"])
        for c in priced.coupons
        if c["applied"]
    ]
    # The points it was paid with, by the bucket they came from: what a refund gives back goes there.
    facts |= {"checkout_id": chk.checkout_id, "gifts": priced.gifts, "points_paid": change.spent.get(source, {})}
    if discounts:  # what a full refund gives its campaigns back; its keys, the GMV they applied to (rules/health)
        facts["checkout_campaigns"] = campaigns.checkout_taken(change, discounts, now)
    if uses:  # what a full refund makes available again
        facts["coupons_used"] = [u.coupon_id for u in uses]
    changed = ("status", "order_id", "closed_at", "updated_at", "first_campaigns")
    changed += ("priced",) if view != chk.priced else ()  # a PUT priced it so, usually: not written twice
    write = MemberWrite(change, profile.version, checkout=settled, checkout_changed=changed, coupon_uses=uses)
    response = CheckoutConfirmed.model_validate({**result, "checkout": shown(settled, now)})
    return Built(write, response, facts)
