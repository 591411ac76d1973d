"""A campaign's points on items round down once (README: "points round down once, at the end"), the
same in a quote, the purchase and its refund (they share rules/campaigns._order_points): 3x on 29.40
of tea adds the floor of 2 x 29.4 = 58.8, 58, not floor(88.2) - floor(29.4) = 59."""

from __future__ import annotations

from tests.handlers.conftest import Api
from tests.handlers.test_campaigns import put, rule

M = "/programs/demo/members/m1"
ORDER = {
    "order_id": "o1",
    "amount_minor": 4900,
    "items": [
        {"sku": "t1", "category": "tea", "amount_minor": 2940},
        {"sku": "f1", "category": "food", "amount_minor": 1960},
    ],
}


def test_a_quote_the_purchase_and_its_refund_agree_on_the_rounded_down_extra(api: Api) -> None:
    tea3 = rule("tea3", effects=[{"multiply_points": 3, "on_items": "i.category=='tea'"}])
    assert put(api, tea3)[0] == 200
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": "m1"})[0] == 201
    status, quoted = api.call("earn", "POST", f"{M}/quotes", ORDER)
    assert status == 200, quoted
    status, bought = api.call("earn", "POST", f"{M}/purchases", ORDER)
    assert status == 201, bought
    for answer in (quoted, bought):
        assert answer["breakdown"]["earned"] == 49
        assert [(c["campaign_id"], c["points"]) for c in answer["breakdown"]["campaigns"]] == [("tea3", 58)]
        assert answer["points_earned"] == 49 + 200 + 58  # the order, the first order bonus, the campaign
    body = {"refund_id": "r1", "order_id": "o1", "items": [{"line_id": "1", "quantity": 1}]}
    status, back = api.call("earn", "POST", f"{M}/refunds", body)  # the tea line: its 58 and its share of the rest
    assert status == 201, back
    assert back["points_reversed"] == (49 + 200) * 2940 // 4900 + 58
