"""Domain events, derived from committed items only (the table's stream), so none is lost or phantom:
a write that did not commit changed no item, and every committed item change reaches the stream.

Each event's `detail` has a schema below (`DETAILS`); the envelope adds `detail_type`, `program_id`,
`member_id`, `at` and `event_id` (the stream record's id: consumers deduplicate on it, since a stream
delivers at least once).
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from . import Model
from .records import StreamRecord
from .store import decode_change

SOURCE = "loyalty.engine"


class MemberEnrolled(Model):
    enrolled_at: datetime
    channel: str | None = None
    lifecycle_stage: str


class PointsChanged(Model):
    """Points Earned / Redeemed / Expired / Reversed / Adjusted: one ledger entry."""

    entry_id: str
    type: str
    points: int
    balance_after: int
    ref: str | None = None
    wallet: str | None = None  # a wallet's entry (stamps...): its amount and balance, not points


class PointsExpiring(Model):
    points: int
    expires_on: str


class TierChanged(Model):
    from_tier: str | None
    to_tier: str
    reason: str


class CouponIssued(Model):
    coupon_id: str
    template_id: str
    kind: str
    value_minor: int
    valid_until: datetime
    source: str


class CouponUsed(Model):
    coupon_id: str
    template_id: str
    order_id: str | None
    discount_minor: int | None


class CampaignApplied(Model):
    """One campaign applied on one event (`ref`: the order, activity... it applied on)."""

    campaign_id: str
    ref: str | None
    points: int = 0
    coupon_ids: list[str] = []
    growth: int = 0
    tags: list[str] = []
    discount_minor: int = 0  # a checkout campaign: its money off the order


class CouponApplied(Model):
    coupon_id: str
    discount_minor: int


class CampaignDiscount(Model):
    campaign_id: str
    discount_minor: int


class Gift(Model):
    sku: str
    quantity: int
    campaign_id: str


class CheckoutConfirmed(Model):
    """A checkout settled as order `order_id`: its pricing as confirmed (the coupons it used, the
    campaigns that took money off or gave gifts)."""

    checkout_id: str
    order_id: str
    subtotal_minor: int
    discount_minor: int
    total_minor: int
    points_used: int
    coupons: list[CouponApplied]
    campaigns: list[CampaignDiscount]
    gifts: list[Gift]


class CardEvent(Model):
    """Card Purchased / Cycle Issued / Expiring / Expired / Refunded."""

    plan_id: str
    active_until: datetime | None
    coupon_ids: list[str] = []


class StageChanged(Model):
    """Churn Risk (-> at_risk) and Member Recalled (-> recalled)."""

    from_stage: str
    to_stage: str
    last_purchase_at: datetime | None


class MemberFlagged(Model):
    """The member went past an `abuse` limit (rules/abuse.py): once per limit and program-local day."""

    kind: str
    day: str


class MemberErased(Model):
    """The envelope's member_id is the pseudonym: the event carries no personal data."""

    erased_at: datetime
    points_removed: int
    coupons_revoked: int


DETAILS: dict[str, type[BaseModel]] = {
    "Member Enrolled": MemberEnrolled,
    "Points Earned": PointsChanged,
    "Points Redeemed": PointsChanged,
    "Points Expired": PointsChanged,
    "Points Reversed": PointsChanged,
    "Points Adjusted": PointsChanged,
    "Points Restored": PointsChanged,
    "Points Expiring": PointsExpiring,
    "Tier Changed": TierChanged,
    "Coupon Issued": CouponIssued,
    "Coupon Used": CouponUsed,
    "Card Purchased": CardEvent,
    "Card Cycle Issued": CardEvent,
    "Card Expiring": CardEvent,
    "Card Expired": CardEvent,
    "Card Refunded": CardEvent,
    "Campaign Applied": CampaignApplied,
    "Checkout Confirmed": CheckoutConfirmed,
    "Churn Risk": StageChanged,
    "Member Recalled": StageChanged,
    "Member Erased": MemberErased,
    "Member Flagged": MemberFlagged,
}

_LEDGER = {
    "welcome": "Points Earned",
    "earn": "Points Earned",
    "activity": "Points Earned",
    "bonus": "Points Earned",
    "redeem": "Points Redeemed",
    "expire": "Points Expired",
    "reverse": "Points Reversed",
    "adjust": "Points Adjusted",
    "restore": "Points Restored",
}
_NOTICES = {
    "points_expiring": "Points Expiring",
    "card_purchased": "Card Purchased",
    "card_cycle_issued": "Card Cycle Issued",
    "card_expiring": "Card Expiring",
    "card_expired": "Card Expired",
    "card_refunded": "Card Refunded",
    "campaign_applied": "Campaign Applied",
    "tier_changed": None,  # the tier history item's `Tier Changed` announces it already
    # Grants outside campaigns: their Points Earned and Coupon Issued (and Churn Risk, Member Recalled) say them.
    "birthday_gift": None,
    "churn_offer": None,
    "recall_offer": None,
    "referral_reward": None,
}
_STAGES = {"at_risk": "Churn Risk", "recalled": "Member Recalled"}


Named = list[tuple[str, dict[str, Any], Any]]  # (detail type, detail fields, when: None = commit time)


def _member(new: dict[str, Any], old: dict[str, Any] | None) -> Named:
    if old is None:
        return [("Member Enrolled", new, new["enrolled_at"])]
    flagged = _flagged(new, old)
    before, after = old.get("lifecycle_stage"), new.get("lifecycle_stage")
    if before == after or after not in _STAGES:
        return flagged
    return [(_STAGES[after], {"from_stage": before, "to_stage": after, **new}, None), *flagged]


def _flagged(new: dict[str, Any], old: dict[str, Any]) -> Named:
    """The flags this write added (a flag is never changed, only added, or dropped as the oldest)."""
    seen = {(f["kind"], f["day"]) for f in old.get("flags") or []}
    return [("Member Flagged", f, f["at"]) for f in new.get("flags") or [] if (f["kind"], f["day"]) not in seen]


def _coupon(new: dict[str, Any], old: dict[str, Any] | None) -> Named:
    if old is None:
        return [("Coupon Issued", new, new["valid_from"])]
    if old.get("status") != "used" and new.get("status") == "used":
        return [("Coupon Used", {**new, "order_id": new.get("used_order_id")}, new.get("used_at"))]
    return []


def _checkout(new: dict[str, Any], old: dict[str, Any] | None) -> Named:
    if old is None or (old.get("status"), new.get("status")) != ("open", "confirmed"):
        return []  # opened, re-priced, cancelled: no event
    priced = new["priced"]
    used = [c for c in priced.get("coupons", []) if c.get("applied")]
    at, ref = new.get("closed_at"), f"checkout:{new['checkout_id']}"
    applied: Named = [("Campaign Applied", {**c, "ref": ref}, at) for c in priced.get("campaigns", [])]
    return [("Checkout Confirmed", {**priced, **new, "coupons": used}, at), *applied]


# Items that are written once: their creation is the event.
_CREATED: dict[str, Any] = {
    "ledger": lambda item: _LEDGER[item["type"]],
    "notice": lambda item: _NOTICES[item["kind"]],
    "tier_change": lambda item: "Tier Changed",
}

# Items whose changes are events too: (new, old) -> the events.
_CHANGED: dict[str, Callable[[dict[str, Any], dict[str, Any] | None], Named]] = {
    "member": _member,
    "coupon": _coupon,
    "checkout": _checkout,
}


def _named(change: StreamRecord) -> Named:
    new, old = change.new, change.old
    if new is None:
        return []  # removals (a DUE item moving) are bookkeeping, not domain events
    if change.kind in _CHANGED:
        return _CHANGED[change.kind](new, old)
    if change.kind == "erasure":
        return [("Member Erased", new, new["erased_at"])]
    if change.kind in _CREATED and old is None:
        name = _CREATED[change.kind](new)
        return [(name, new, new["at"])] if name is not None else []
    return []


def from_record(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The domain events one stream record carries (most records carry none or one)."""
    change = decode_change(record)
    if change is None:
        return []
    committed = change.committed.isoformat() if change.committed else None
    events = []
    for detail_type, fields, at in _named(change):
        detail = DETAILS[detail_type].model_validate(fields).model_dump(mode="json")
        events.append(
            {
                "detail_type": detail_type,
                "source": SOURCE,
                "event_id": change.event_id,
                "program_id": change.program_id,
                "member_id": change.member_id,
                "at": at or committed,
                "detail": detail,
            }
        )
    return events


def from_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [event for record in records for event in from_record(record)]
