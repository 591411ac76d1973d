"""A full refund of a checkout's order gives back what its checkout campaigns took (issue 30
acceptance): their `discount_minor` budget and the member's use counts, exactly once."""

from __future__ import annotations

from datetime import datetime

from tests.handlers.conftest import Api
from tests.handlers.test_checkout import TEA, M, campaign, confirm, now, put, setup, shop_doc  # noqa: F401


def refund(api: Api, rid: str, order_id: str, amount: int) -> dict:
    body = {"refund_id": rid, "order_id": order_id, "amount_minor": amount}
    status, back = api.call("earn", "POST", f"{M}/refunds", body)
    assert status == 201, back
    return back


def taken(api: Api) -> int:
    """The campaign's discount_minor budget item, as the confirm's condition reads it."""
    key = {"pk": {"S": "BUDGET#shop#campaign:ten-off:discount_minor:all"}, "sk": {"S": "BUDGET"}}
    return int(api.client.get_item(TableName="LoyaltyTable", Key=key)["Item"]["taken"]["N"])


def test_a_full_refund_gives_back_the_discount_budget_and_the_members_use_once(
    api: Api,
    now: list[datetime],  # noqa: F811
) -> None:
    capped = campaign(
        "ten-off",
        {"amount_off_minor": 1000},
        limits={"budget": {"discount_minor": 1000}, "per_member": {"count": 1, "per": "campaign"}},
    )
    setup(api, shop_doc(capped))
    first = put(api, "c1", {"items": [TEA]})[1]
    assert {"campaign_id": "ten-off", "discount_minor": 1000} in first["campaigns"]
    assert confirm(api, "c1", "o1", first["total_minor"])[0] == 201
    _, spent = put(api, "c2", {"items": [TEA]})
    assert not any(c["campaign_id"] == "ten-off" for c in spent["campaigns"])  # the budget and the limit
    refund(api, "r1", "o1", 1000)  # a part: nothing comes back yet
    assert not any(c["campaign_id"] == "ten-off" for c in put(api, "c2", {"items": [TEA]})[1]["campaigns"])
    refund(api, "r2", "o1", first["total_minor"] - 1000)  # the rest: the order is refunded in full
    assert taken(api) == 0
    repeat = {"refund_id": "r2", "order_id": "o1", "amount_minor": first["total_minor"] - 1000}
    assert api.call("earn", "POST", f"{M}/refunds", repeat)[0] == 200  # a repeat gives nothing back twice
    again = put(api, "c2", {"items": [TEA]})[1]
    assert {"campaign_id": "ten-off", "discount_minor": 1000} in again["campaigns"], again
    assert confirm(api, "c2", "o2", again["total_minor"])[0] == 201
    assert taken(api) == 1000
    third = put(api, "c3", {"items": [TEA]})[1]  # spent again: given back once, not twice
    assert not any(c["campaign_id"] == "ten-off" for c in third["campaigns"]), third
