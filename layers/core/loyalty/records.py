"""A committed item change, as the table's stream reports it (store.decode_change makes them): what
domain events and health figures are derived from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass
class StreamRecord:
    """One committed item change as a table stream reports it, decoded (the domain events' input)."""

    kind: str  # member, ledger, coupon, notice, tier_change, due, order, erasure (other: anything else)
    program_id: str
    member_id: str | None
    new: dict[str, Any] | None  # None: removed
    old: dict[str, Any] | None  # None: created
    event_id: str  # the stream record's id: at-least-once consumers deduplicate on it
    committed: datetime | None  # when the stream saw the change
