"""Stream record -> domain events, for the changes a short integration run does not produce."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from loyalty import events
from loyalty.member import LedgerEntry, Notice

AT = datetime(2026, 3, 1, 4, tzinfo=UTC)
PK = "MEMBER#demo#m1"
_ser = TypeSerializer()


def record(sk: str, new: dict[str, Any] | None, old: dict[str, Any] | None = None, pk: str = PK) -> dict[str, Any]:
    def image(item: dict[str, Any]) -> dict[str, Any]:
        return {k: _ser.serialize(v) for k, v in {"pk": pk, "sk": sk, **item}.items()}

    images: dict[str, Any] = {"ApproximateCreationDateTime": AT.timestamp(), "Keys": image({})}
    if new is not None:
        images["NewImage"] = image(new)
    if old is not None:
        images["OldImage"] = image(old)
    return {"eventID": "e1", "eventName": "MODIFY" if old else "INSERT", "dynamodb": images}


def only(rec: dict[str, Any]) -> dict[str, Any]:
    found = events.from_record(rec)
    assert len(found) == 1, found
    return found[0]


def test_expiry_and_its_reminder() -> None:
    entry = LedgerEntry(entry_id="000000000009", type="expire", points=-40, balance_after=0, at=AT, ref="expiry:x")
    expired = only(record("LEDGER#000000000009", entry.model_dump(mode="json")))
    assert expired["detail_type"] == "Points Expired" and expired["detail"]["points"] == -40
    notice = Notice(
        notice_id="points_expiring.2026-03-31", kind="points_expiring", at=AT, points=40, expires_on="2026-03-31"
    )
    expiring = only(record("NOTICE#points_expiring.2026-03-31", notice.model_dump(mode="json")))
    assert expiring["detail_type"] == "Points Expiring" and expiring["detail"] == {
        "points": 40,
        "expires_on": "2026-03-31",
    }


def test_card_notices() -> None:
    for kind, name in [
        ("card_purchased", "Card Purchased"),
        ("card_expiring", "Card Expiring"),
        ("card_expired", "Card Expired"),
    ]:
        notice = Notice(notice_id=f"{kind}.p", kind=kind, at=AT, plan_id="plus", active_until=AT)  # type: ignore[arg-type]
        event = only(record(f"NOTICE#{kind}.p", notice.model_dump(mode="json")))
        assert event["detail_type"] == name and event["detail"]["plan_id"] == "plus"


def test_churn_risk_and_recall_are_stage_changes_only() -> None:
    base = {"enrolled_at": AT.isoformat(), "last_purchase_at": AT.isoformat()}
    risk = only(record("PROFILE", {**base, "lifecycle_stage": "at_risk"}, {**base, "lifecycle_stage": "active"}))
    assert risk["detail_type"] == "Churn Risk" and risk["at"] == AT.isoformat()
    recalled = only(record("PROFILE", {**base, "lifecycle_stage": "recalled"}, {**base, "lifecycle_stage": "at_risk"}))
    assert recalled["detail"] == {
        "from_stage": "at_risk",
        "to_stage": "recalled",
        "last_purchase_at": AT.isoformat().replace("+00:00", "Z"),
    }
    assert (
        events.from_record(
            record("PROFILE", {**base, "lifecycle_stage": "active"}, {**base, "lifecycle_stage": "active"})
        )
        == []
    )


def test_bookkeeping_and_other_partitions_announce_nothing() -> None:
    assert events.from_record(record("DUE#expire", {"day": "2026-03-01"})) == []
    assert events.from_record(record("DUE#expire", None, {"day": "2026-03-01"})) == []
    other = record("CONFIG", {"version": 2})
    other["dynamodb"]["NewImage"]["pk"] = {"S": "PROGRAM#demo"}
    assert events.from_record(other) == []


def test_every_event_name_is_the_one_the_readme_documents() -> None:
    """Names are contract: a rename (even a search-and-replace meant for something else) fails here."""
    from pathlib import Path

    from loyalty.events import DETAILS

    readme = (Path(__file__).parents[2] / "README.md").read_text().split("| detail-type |", 1)[1].split("\n\n")[0]
    cells = [line.split("|")[1].strip() for line in readme.splitlines()[2:]]  # "Points Earned / Redeemed / ..."

    def documented(name: str) -> bool:
        noun, rest = name.split(" ", 1)
        return any(name in cell or (cell.startswith(noun) and f"/ {rest}" in cell) for cell in cells)

    assert [name for name in DETAILS if not documented(name)] == []


def test_a_campaign_application_is_an_event_and_a_figure() -> None:
    from collections import Counter

    from loyalty.program import Program
    from loyalty.rules import health
    from loyalty.store import decode_change
    from tests.support import program

    notice = Notice(
        notice_id="campaign.tea.order:o1",
        kind="campaign_applied",
        at=AT,
        points=40,
        coupon_ids=["cpn-1"],
        campaign_id="tea",
        ref="order:o1",
        first=True,
    )
    rec = record("NOTICE#campaign.tea.order:o1", notice.model_dump(mode="json"))
    applied = only(rec)
    assert applied["detail_type"] == "Campaign Applied"
    assert applied["detail"] == {
        "campaign_id": "tea",
        "ref": "order:o1",
        "points": 40,
        "coupon_ids": ["cpn-1"],
        "growth": 0,
        "tags": [],
        "discount_minor": 0,
    }
    change = decode_change(rec)
    assert change is not None
    out: health.Deltas = {}
    health.deltas(change, Program.model_validate(program("demo")), AT, out)
    assert out[("demo", ("campaign", "tea"))] == Counter(
        {"applications": 1, "members_reached": 1, "points_given": 40, "coupons_given": 1}
    )


def test_an_erasure_publishes_one_event_naming_nobody_and_its_moved_copies_none() -> None:
    pk = "MEMBER#demo#erased-0f0f"
    erased = {"member_id": "erased-0f0f", "enrolled_at": AT.isoformat(), "erased_at": AT.isoformat()}
    event = only(record("PROFILE", {**erased, "points_removed": 120, "coupons_revoked": 2}, pk=pk))
    assert event["detail_type"] == "Member Erased" and event["member_id"] == "erased-0f0f"
    assert event["detail"] == {"erased_at": "2026-03-01T04:00:00Z", "points_removed": 120, "coupons_revoked": 2}
    entry = LedgerEntry(entry_id="000000000003", type="earn", points=40, balance_after=40, at=AT, ref="order:o1")
    copy = {**entry.model_dump(mode="json"), "erased_at": AT.isoformat()}
    assert events.from_record(record("LEDGER#000000000003", copy, pk=pk)) == []  # moved, not earned again
    # The profile leaving the member id is bookkeeping, not an event; the health counter counts it.
    assert events.from_record(record("PROFILE", None, {"member_id": "m1", "enrolled_at": AT.isoformat()})) == []


def test_health_counts_an_erased_member_out_and_its_moved_copies_not_at_all() -> None:
    from collections import Counter

    from loyalty.program import Program
    from loyalty.rules import health
    from loyalty.store import decode_change
    from tests.support import program

    demo = Program.model_validate(program("demo"))
    gone = {"member_id": "m1", "enrolled_at": AT.isoformat(), "tier_id": "silver", "segment": "loyal"}
    out: health.Deltas = {}
    for rec in (
        record("PROFILE", None, gone),  # the profile leaves the member id
        record("LEDGER#000000000004", None, {"type": "earn", "points": 40}),  # the original, deleted once copied
        record(
            "LEDGER#000000000005", {"type": "adjust", "points": -40, "at": AT.isoformat()}, pk="MEMBER#demo#erased-1"
        ),
    ):
        change = decode_change(rec)
        assert change is not None
        health.deltas(change, demo, AT, out)
    assert (
        decode_change(record("PROFILE", {**gone, "erased_at": AT.isoformat()}, pk="MEMBER#demo#erased-1")).kind
        == "erasure"
    )
    assert out == {
        ("demo", ("total", "")): Counter({"members": -1, "tier:silver": -1, "segment:loyal": -1, "points": -40}),
        ("demo", ("day", "2026-03-01")): Counter({"members_erased": 1, "points_adjusted": -40}),  # the day's series
    }


def confirmed_checkout() -> tuple[dict[str, Any], dict[str, Any]]:
    """The contract's example checkout (member price, gold-95, a coupon, 500 points), open then confirmed."""
    from loyalty.member import Checkout
    from tests.unit.test_checkout import GOLD_95, LATTE, MEMBER_PRICE, TEA_WEEK, coupon, doc, price

    priced = price(doc(MEMBER_PRICE, GOLD_95, TEA_WEEK), [LATTE], [coupon("cpn-1"), coupon("cpn-2", "big-spend")], 500)
    opened = Checkout(
        checkout_id="c-1",
        member_id="m1",
        expires_at=AT,
        updated_at=AT,
        cart={"items": [], "coupon_ids": ["cpn-1", "cpn-2"], "points_to_use": 500},
        priced={**priced.view(), "points_to_earn": 43},
    )
    update = {"status": "confirmed", "order_id": "o-1", "closed_at": AT, "first_campaigns": ["gold-95"]}
    closed = opened.model_copy(update=update)
    return closed.model_dump(mode="json"), opened.model_dump(mode="json")


def test_a_confirmed_checkout_is_an_event() -> None:
    new, old = confirmed_checkout()
    event, applied = events.from_record(record("CHECKOUT#c-1", new, old))
    assert event["detail_type"] == "Checkout Confirmed" and event["at"] == "2026-03-01T04:00:00Z"
    # Its campaigns are announced with it: the confirm writes no notice per campaign.
    assert (applied["detail_type"], applied["at"]) == ("Campaign Applied", "2026-03-01T04:00:00Z")
    assert applied["detail"] == {
        "campaign_id": "gold-95",
        "ref": "checkout:c-1",
        "points": 0,
        "coupon_ids": [],
        "growth": 0,
        "tags": [],
        "discount_minor": 280,
    }
    assert event["detail"] == {
        "checkout_id": "c-1",
        "order_id": "o-1",
        "subtotal_minor": 6400,
        "discount_minor": 2080,
        "total_minor": 4320,
        "points_used": 500,
        "coupons": [{"coupon_id": "cpn-1", "discount_minor": 500}],  # used only: cpn-2 did not apply
        "campaigns": [{"campaign_id": "gold-95", "discount_minor": 280}],
        "gifts": [],
    }
    # Opening, re-pricing and cancelling a checkout announce nothing; neither does a confirmed one rewritten.
    cancelled = {**old, "status": "cancelled", "closed_at": AT.isoformat()}
    for changed in ((old, None), (old, old), (cancelled, old), (new, new)):
        assert events.from_record(record("CHECKOUT#c-1", *changed)) == []


def test_a_confirmed_checkout_counts_its_money_off_by_source_once() -> None:
    from loyalty.program import Program
    from loyalty.rules import health
    from loyalty.store import decode_change
    from tests.support import program

    new, old = confirmed_checkout()
    demo = Program.model_validate(program("demo"))
    out: health.Deltas = {}
    cancelled = {**old, "status": "cancelled"}
    for changed in ((new, old), (old, None), (old, old), (cancelled, old), (new, new)):
        change = decode_change(record("CHECKOUT#c-1", *changed))
        assert change is not None and change.kind == "checkout"
        health.deltas(change, demo, AT, out)
    assert out[("demo", ("day", "2026-03-01"))] == Counter(
        {"discount:member_price": 800, "discount:campaigns": 280, "discount:coupons": 500, "discount:points": 500}
    )
    figures = health.figures(demo, [dict(out[("demo", ("day", "2026-03-01"))])], [], {})
    assert figures["discount_minor"] == {"member_price": 800, "campaigns": 280, "coupons": 500, "points": 500}


def test_a_checkout_campaign_counts_its_money_off_and_the_order_from_the_confirmed_checkout() -> None:
    from loyalty.program import Program
    from loyalty.rules import health
    from loyalty.store import decode_change
    from tests.support import program

    new, old = confirmed_checkout()
    out: health.Deltas = {}
    for changed in ((new, old), (new, new)):  # counted once: a confirmed checkout rewritten counts nothing
        change = decode_change(record("CHECKOUT#c-1", *changed))
        assert change is not None
        health.deltas(change, Program.model_validate(program("demo")), AT, out)
    assert out[("demo", ("campaign", "gold-95"))] == Counter(
        {"applications": 1, "members_reached": 1, "discount_minor": 280, "orders": 1}
    )
