"""Guest orders (a non-member's order, exactly once by `order_id`) and what an enrolment learns of the
guest customer it names (API.md "Referral, and where members come from")."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .. import clock
from ..errors import Contention, IdempotencyConflict
from ..member import Profile
from ..schemas import GuestOrder, GuestOrderResult
from ..store import RefExists, Store
from . import programs
from .pipeline import Attempt, Outcome, request_hash, retry

GUEST = ""  # the request fingerprint's member: no member id is empty, so no purchase's hash matches a guest's


def guest_order(store: Store, program_id: str, body: GuestOrder, now: datetime) -> Outcome[GuestOrderResult]:
    """Record the order: its reference (in the orders' id space: an id a member's purchase used is
    409, and a purchase naming a guest order's id is too) and the guest customer it names, in one
    transaction. A repeat answers the first result; another body for the id, 409 `idempotency_conflict`."""
    programs.load(store, program_id)  # 404 for an unknown program
    paid_at = clock.event_time(body.paid_at, "paid_at", now)
    digest = request_hash(program_id, GUEST, body)
    result = GuestOrderResult(
        program_id=program_id,
        order_id=body.order_id,
        amount_minor=body.amount_minor,
        paid_at=paid_at,
        customer_ref=body.customer_ref,
        recorded_at=now,
    )
    response = result.model_dump(mode="json")
    order = {
        "order_id": body.order_id,
        "order_minor": body.amount_minor,
        "paid_at": clock.iso(paid_at),
        "recorded_at": clock.iso(now),
        "request_hash": digest,
        "response": response,
        **({"customer_ref": body.customer_ref} if body.customer_ref else {}),
    }

    def attempt(_: Attempt) -> Outcome[GuestOrderResult]:
        try:
            store.record_guest_order(program_id, order, body.customer_ref, now)
        except RefExists as exists:
            if exists.item.get("request_hash") != digest:
                raise IdempotencyConflict("order", body.order_id) from None
            return Outcome(False, GuestOrderResult.model_validate(json.loads(exists.item["response"])))
        return Outcome(True, result)

    return retry(attempt, Contention("the guest order is being written concurrently; retry"))


def conversion(profile: Profile, customer_ref: str | None, guest: dict[str, Any] | None) -> None:
    """An enrolment naming a customer_ref: kept on the profile, with when its first guest order was
    recorded if that was before the enrolment (`guest`: its guest customer item, read with the
    referral code's owner by usecases/referral.enrolment_reads)."""
    profile.customer_ref = customer_ref
    first = clock.parse(guest["first_order_at"]) if guest and guest.get("first_order_at") else None
    profile.guest_since = first if first is not None and first <= profile.enrolled_at else None


def converted(profile: Profile) -> tuple[str, datetime] | None:
    """What the enrolment's transaction marks on the guest customer item: (customer_ref, enrolled_at)."""
    if profile.customer_ref is None or profile.guest_since is None:
        return None
    return profile.customer_ref, profile.enrolled_at
