"""bench/shadow.py's draft passes the checks at PUT and differs from the live campaigns it shadows."""

from __future__ import annotations

from datetime import UTC, datetime

from bench import campaigns, shadow
from loyalty.usecases.programs import validate

NOW = datetime(2026, 12, 3, 4, tzinfo=UTC)


def test_the_bench_draft_is_valid_and_has_twenty_other_campaigns() -> None:
    live = campaigns.purchase_campaigns(shadow.CAMPAIGNS, 4, NOW)
    draft = shadow.draft_of(live)
    validate(campaigns.document(live))
    validate(campaigns.document(draft))  # ProgramInvalid lists every problem
    assert len(draft) == shadow.CAMPAIGNS and draft != live
    assert not any("coupons" in e for c in draft for e in c["effects"])
