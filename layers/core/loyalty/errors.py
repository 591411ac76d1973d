"""Domain errors. Each carries the contract's code and HTTP status; the HTTP layer only renders them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def field_path(loc: tuple[int | str, ...]) -> str:
    """('tiers', 'levels', 1, 'threshold') -> 'tiers.levels[1].threshold': how every error names a field."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def error_message(error: dict[str, Any]) -> str:
    """A pydantic error's message without pydantic's "Value error, " (or "Assertion failed, ") before
    the validator's own words."""
    message = str(error.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


class LoyaltyError(Exception):
    code = "internal_error"
    status = 500

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class ValidationFailed(LoyaltyError):
    code, status = "validation_error", 422

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", [{"field": field, "message": message}])


class Unauthorized(LoyaltyError):
    code, status = "unauthorized", 401


class Forbidden(LoyaltyError):
    code, status = "forbidden", 403


class NotFound(LoyaltyError):
    code, status = "not_found", 404


class IdempotencyConflict(LoyaltyError):
    code, status = "idempotency_conflict", 409

    def __init__(self, kind: str, ref_id: str) -> None:
        super().__init__(
            f"{kind} {ref_id!r} was already used with a different payload",
            [{"field": f"{kind}_id", "message": "already used with a different payload"}],
        )


class Conflict(LoyaltyError):
    """What is asked conflicts with the state it names (a grant already done): 409 `conflict`."""

    code, status = "conflict", 409


class InsufficientPoints(LoyaltyError):
    code, status = "insufficient_points", 409

    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"needs {needed} points, {available} available", [{"needed": needed, "available": available}])


@contextmanager
def points_asked_by(field: str) -> Iterator[None]:
    """Names the request field that asked for the points on an insufficient_points raised inside (the
    rule that finds the balance short, a debit, does not know it); a field named already is kept."""
    try:
        yield
    except InsufficientPoints as refused:
        refused.details = [{"field": field, **d} for d in refused.details]
        raise


class LimitReached(LoyaltyError):
    code, status = "limit_reached", 409


class OutOfStock(LoyaltyError):
    code, status = "out_of_stock", 409


class CouponUnavailable(LoyaltyError):
    code, status = "coupon_unavailable", 409


class NotEligible(LoyaltyError):
    """A restricted item (member-only, or early access not open yet) in another member's cart."""

    code, status = "not_eligible", 409


class CheckoutClosed(LoyaltyError):
    """A checkout confirmed or cancelled: it is priced, held, confirmed or cancelled no more."""

    code, status = "checkout_closed", 409


class CheckoutExpired(LoyaltyError):
    """A confirm after the checkout's `expires_at`: its holds ended, so its pricing may not hold."""

    code, status = "checkout_expired", 409


class CheckoutChanged(LoyaltyError):
    """A confirm whose amount paid is not what the checkout costs now (a budget ran out, a coupon
    ended): the new pricing is in the details, nothing was written."""

    code, status = "checkout_changed", 409


class RefundNotAllowed(LoyaltyError):
    """A card payment that cannot be refunded (window closed, refunded already, a later extension)."""

    code, status = "refund_not_allowed", 409


class MemberBlocked(LoyaltyError):
    """A write that would earn or spend for a blocked member (PUT .../block): nothing was written."""

    code, status = "member_blocked", 409

    def __init__(self, member_id: str) -> None:
        super().__init__(
            f"member {member_id!r} is blocked: it earns and spends nothing",
            [{"field": "member_id", "message": "blocked"}],
        )


class ProgramInvalid(LoyaltyError):
    code, status = "program_invalid", 422


class Contention(LoyaltyError):
    """Optimistic retries exhausted: the member is being written by many requests at once."""

    code, status = "conflict", 409


class Unavailable(LoyaltyError):
    """DynamoDB kept throttling, or could not be reached, after the client's bounded retries: the caller
    should retry later (store/table.py raises it from the client's events)."""

    code, status = "unavailable", 503
