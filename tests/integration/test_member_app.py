"""The member's app on DynamoDB Local: after parallel redemptions of a stocked reward, the program view's
stock and refusal are what the next redemption meets (its one BatchGetItem reads the profile, the
stock shards and the budgets); notices come newest first by their timed keys, a page at a time."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from loyalty.errors import LoyaltyError
from loyalty.schemas import Enrol, Purchase, Redeem
from loyalty.store import Store
from loyalty.usecases import earning, member_program, members, programs, spending
from tests.integration.test_faults import NOW
from tests.support import program


def shop(s: Store) -> str:
    pid = f"ma-{uuid.uuid4().hex[:10]}"
    doc = program("points-only")
    doc["rewards"] = [
        {"id": "mug", "name": "Mug", "cost_points": 100, "fulfilment": "goods", "stock": 5},
        {"id": "pin", "name": "Pin", "cost_points": 10, "grant": {"coupons": ["free-coffee"], "budget": 3}},
    ]
    doc["campaigns"] = [
        {"id": "thanks", "name": "x", "trigger": "purchase", "effects": [{"points": 1}], "public": {"title": "Thanks"}}
    ]
    programs.save(s, pid, doc)
    return pid


def offer(s: Store, pid: str, mid: str, reward_id: str) -> dict:
    view = member_program.view(s, pid, mid, NOW).model_dump(mode="json")
    return next(r for r in view["rewards"] if r["id"] == reward_id)


def attempt(s: Store, pid: str, mid: str, reward_id: str, rid: str) -> str:
    try:
        spending.redeem(s, pid, mid, Redeem(redemption_id=rid, reward_id=reward_id), NOW)
    except LoyaltyError as refused:
        return refused.code
    return "ok"


def test_after_parallel_redemptions_the_view_says_what_the_next_one_meets(store: Store) -> None:
    pid = shop(store)
    mids = [f"m{i}" for i in range(8)]
    for mid in mids:
        members.enrol(store, pid, Enrol(member_id=mid), NOW)
        earning.purchase(store, pid, mid, Purchase(order_id=f"o-{mid}", amount_minor=100000), NOW)
    assert offer(store, pid, "m0", "mug") == {
        "id": "mug",
        "name": "Mug",
        "cost_points": 100,
        "available": True,
        "stock_left": 5,
    }
    with ThreadPoolExecutor(8) as pool:
        mugs = list(pool.map(lambda m: attempt(store, pid, m, "mug", f"mug-{m}"), mids))
        pins = list(pool.map(lambda m: attempt(store, pid, m, "pin", f"pin-{m}"), mids))
    assert sorted(mugs) == ["ok"] * 5 + ["out_of_stock"] * 3
    assert sorted(pins) == ["limit_reached"] * 5 + ["ok"] * 3  # the month's budget of 3
    for mid in mids:
        mug, pin = offer(store, pid, mid, "mug"), offer(store, pid, mid, "pin")
        assert (mug["reason"], mug["stock_left"], pin["reason"]) == ("out_of_stock", 0, "limit_reached")
        assert (attempt(store, pid, mid, "mug", f"again-{mid}"), attempt(store, pid, mid, "pin", f"p2-{mid}")) == (
            "out_of_stock",
            "limit_reached",
        )
    winner = mids[mugs.index("ok")]
    spending.cancel(store, pid, winner, f"mug-{winner}", NOW)  # a unit back in its shard
    assert offer(store, pid, "m0", "mug")["stock_left"] == 1
    assert attempt(store, pid, "m0", "mug", "back") == "ok"


def test_notices_newest_first_a_page_at_a_time(store: Store) -> None:
    pid = shop(store)
    members.enrol(store, pid, Enrol(member_id="m1", enrolled_at=NOW - timedelta(days=60)), NOW)
    days = [30, 10, 50, 20, 40]  # synced out of order
    for n, back in enumerate(days):
        paid_at = NOW - timedelta(days=back)
        earning.purchase(store, pid, "m1", Purchase(order_id=f"o{n}", amount_minor=1000, paid_at=paid_at), NOW)
    seen, cursor = [], None
    while True:
        page = members.notices(store, pid, "m1", 2, cursor)
        seen += [n.at for n in page.notices]
        assert all(n.text == "Thanks: you got 1 point" for n in page.notices)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [NOW - timedelta(days=d) for d in sorted(days)]
