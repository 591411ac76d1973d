"""GET /programs/{program_id}/campaigns (issue 31, part E): every campaign with its status, its
figures and cost over a range of program-local days and a per-day series, counted from the table's
stream (moto's, fed to the real health counter) and read in one Query plus the budgets' BatchGet."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tests.handlers.conftest import Api
from tests.handlers.test_checkout_figures import Stream
from tests.handlers.test_cost import calls, measure  # noqa: F401 - the fixture counts botocore calls
from tests.support import Context, load_function, program

M = "/programs/demo/members/m1"
TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()


def campaign(cid: str, **kw: Any) -> dict[str, Any]:
    return {"id": cid, "name": f"the {cid}", "trigger": "purchase", "effects": [{"points": 10}], **kw}


def setup(api: Api) -> None:
    doc = program("demo")
    doc["points"]["value"] = {"points": 100, "worth_minor": 50}  # a point is worth half a fen: cost shows it
    doc["coupons"]["tea-5"] = {"name": "5 off", "kind": "amount_off", "value_minor": 500, "valid_days": 7}
    future = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    past = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    doc["campaigns"] = [
        campaign("gift", when="order.amount_minor >= 8000", effects=[{"points": 200}, {"coupons": ["tea-5"]}]),
        campaign("later", active={"from": future}),
        campaign("gone", active={"until": past}),
        campaign("capped", limits={"budget": {"points": 10}}),
        {"id": "five-pct", "name": "5% off", "trigger": "checkout", "effects": [{"percent_off": 5}]},
    ]
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201


def test_every_campaign_with_its_status_figures_cost_and_days(api: Api) -> None:
    setup(api)
    stream = Stream()
    status, bought = api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 8000})
    assert status == 201, bought
    [coupon] = [c for c in bought["coupons"] if c["template_id"] == "tea-5"]
    use = {"order_id": "o2", "order_amount_minor": 6000}
    assert api.call("redeem", "POST", f"{M}/coupons/{coupon['coupon_id']}/use", use)[0] == 200
    assert (
        api.call("earn", "POST", f"{M}/refunds", {"refund_id": "r1", "order_id": "o1", "amount_minor": 2000})[0] == 201
    )
    cart = {"items": [{"line_id": "1", "sku": "latte", "quantity": 2, "unit_price_minor": 3000}]}
    status, priced = api.call("checkout", "PUT", f"{M}/checkouts/c-1", cart)
    assert status == 200 and priced["campaigns"] == [{"campaign_id": "five-pct", "discount_minor": 300}], priced
    confirm = {"order_id": "o3", "amount_paid_minor": priced["total_minor"]}
    assert api.call("checkout", "POST", f"{M}/checkouts/c-1/confirm", confirm)[0] == 201
    load_function("count_health").handler({"Records": stream.new()}, Context())

    status, body = api.call("programs", "GET", "/programs/demo/campaigns")
    assert status == 200, body
    by_id = {c["campaign_id"]: c for c in body["campaigns"]}
    assert list(by_id) == ["gift", "later", "gone", "capped", "five-pct"]  # the program's order
    assert {k: c["status"] for k, c in by_id.items()} == {
        "gift": "running",
        "later": "scheduled",
        "gone": "ended",
        "capped": "budget_spent",  # o1 took its 10 points: nothing left
        "five-pct": "running",
    }
    gift = by_id["gift"]
    assert gift["name"] == "the gift"
    assert (gift["applications"], gift["members_reached"], gift["orders"]) == (1, 1, 1)
    assert (gift["points_given"], gift["points_reversed"], gift["coupons_given"], gift["coupons_used"]) == (
        200,
        50,
        1,
        1,
    )
    assert gift["gmv_minor"] == 8000 - 2000  # the order it applied to, net of its refund
    assert gift["coupons_used_minor"] == 500
    assert gift["cost_minor"] == (200 - 50) // 2 + 500  # points at the program's value + the coupon's money off
    five = by_id["five-pct"]
    assert (five["discount_minor"], five["orders"], five["gmv_minor"], five["cost_minor"]) == (300, 1, 5700, 300)
    [day] = gift["days"]
    assert day["date"] == TODAY.isoformat() and day["cost_minor"] == gift["cost_minor"]
    assert by_id["later"]["days"] == [] and by_id["later"]["applications"] == 0
    assert body["from"] == (TODAY - timedelta(days=29)).isoformat() and body["to"] == TODAY.isoformat()


def test_a_past_range_has_nothing_and_bad_ranges_name_the_field(api: Api) -> None:
    setup(api)
    stream = Stream()
    assert api.call("earn", "POST", f"{M}/purchases", {"order_id": "o1", "amount_minor": 8000})[0] == 201
    load_function("count_health").handler({"Records": stream.new()}, Context())
    before = {"from": "2020-01-01", "to": "2020-01-31"}
    status, body = api.call("programs", "GET", "/programs/demo/campaigns", query=before)
    assert status == 200 and all(c["applications"] == 0 and c["days"] == [] for c in body["campaigns"])
    for query, field in (({"from": "2026-02-01", "to": "2026-01-01"}, "from"), ({"from": "2020-01-01"}, "from")):
        status, body = api.call("programs", "GET", "/programs/demo/campaigns", query=query)
        assert status == 422 and body["error"]["details"][0]["field"] == field, body  # as health's
    status, body = api.call("programs", "GET", "/programs/demo/campaigns", query={"to": "2026-13-01"})
    assert status in (400, 422) and body["error"]["code"] == "validation_error"
    assert api.call("programs", "GET", "/programs/nope/campaigns")[0] == 404


def test_the_report_is_one_query_and_one_batch_get(api: Api, calls: Counter[str]) -> None:  # noqa: F811
    setup(api)
    api.call("programs", "GET", "/programs/demo/campaigns")  # the program is cached after its first read
    assert measure(calls, api, "programs", "GET", "/programs/demo/campaigns") == {"Query": 1, "BatchGetItem": 1}
