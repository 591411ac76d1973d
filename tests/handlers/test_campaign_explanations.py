"""Issue 31 (A) through the real handlers (moto): an activity's object and attributes (validated,
read by campaigns, kept on its reference), and a quote's campaigns_skipped, which promises nothing
the purchase would not give."""

from __future__ import annotations

from typing import Any

from loyalty.runtime import store
from tests.handlers.conftest import Api
from tests.handlers.test_campaign_answers import enrol, put, quote_then_buy, rule, still  # noqa: F401 - a fixture

P = "/programs/demo/members"


def act(api: Api, member: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return api.call("earn", "POST", f"{P}/{member}/activities", body)


def test_an_activity_carries_an_object_and_attributes_campaigns_read(api: Api) -> None:
    review = rule(
        "five-star-share",
        trigger="activity",
        when="activity.object_id.startsWith('sku-') && activity.attributes['stars'] == '5'",
    )
    put(api, review)
    enrol(api, "m1")
    body = {"activity_id": "a1", "type": "share", "object_id": "sku-1", "attributes": {"stars": "5", "lang": "zh"}}
    status, done = act(api, "m1", body)
    assert status == 201 and [c["campaign_id"] for c in done["campaigns"]] == ["five-star-share"], done
    kept = store().get_ref("demo", "activity", "a1")
    assert kept is not None and (kept["object_id"], kept["attributes"]) == ("sku-1", {"stars": "5", "lang": "zh"})
    assert act(api, "m1", body) == (200, done)  # a repeat: the first answer
    status, conflict = act(api, "m1", body | {"attributes": {"stars": "4"}})
    assert status == 409 and conflict["error"]["code"] == "idempotency_conflict"
    status, other = act(api, "m1", {"activity_id": "a2", "type": "share", "attributes": {"stars": "4"}})
    assert status == 201 and other["campaigns"] == []  # no object, four stars: not met


def test_a_bad_object_or_attributes_is_a_422_naming_the_field(api: Api) -> None:
    put(api)
    enrol(api, "m1")
    base = {"activity_id": "a1", "type": "share"}
    for bad, field in (
        ({"object_id": "not an id"}, "object_id"),
        ({"object_id": 5}, "object_id"),
        ({"attributes": {f"k{n}": "v" for n in range(11)}}, "attributes"),
        ({"attributes": {"stars": 5}}, "attributes.stars"),
        ({"attributes": {"bad key": "v"}}, "attributes.bad key"),
        ({"attributes": {"note": "x" * 257}}, "attributes.note"),
        ({"attributes": ["stars"]}, "attributes"),
    ):
        status, body = act(api, "m1", base | bad)
        assert status == 422 and body["error"]["code"] == "validation_error", (bad, body)
        fields = [d["field"] for d in body["error"]["details"]]
        assert any(f.startswith(field) for f in fields), (bad, fields)


def test_a_quote_lists_the_campaigns_it_skips_with_why(api: Api) -> None:
    later = {"from": "2099-01-01T00:00:00+08:00"}
    put(
        api,
        rule("later", priority=9, active=later),
        rule("spent", priority=8, limits={"budget": {"points": 15}}),
        rule("once", priority=7, limits={"per_member": {"count": 1, "per": "campaign"}}),
        rule("big", priority=6, when="order.amount_minor > 1000000"),
        rule("first", priority=5, exclusive=True),
        rule("low", priority=1),
        rule("down", trigger="tier_changed", when="change.direction == 'down'"),
        rule("up", trigger="tier_changed", when="change.direction == 'up'"),
    )
    enrol(api, "m1")
    enrol(api, "m2")
    quote_then_buy(api, "m1", {"order_id": "o1", "amount_minor": 6000})  # spends 10 of spent's 15, once's one use
    order = {"order_id": "o2", "amount_minor": 120000}  # m2 moves up to gold: "up" applies, "down" does not
    status, quoted = api.call("earn", "POST", f"{P}/m2/quotes", order)
    assert status == 200, quoted
    skipped = quoted["campaigns_skipped"]
    assert skipped == [
        {"campaign_id": "later", "reason": "not active"},
        {"campaign_id": "spent", "reason": "budget spent"},  # 5 points left: 10 do not fit
        {"campaign_id": "big", "reason": "condition not met"},
        {"campaign_id": "low", "reason": "excluded by first"},
        {"campaign_id": "down", "reason": "condition not met"},
    ]
    assert [c["campaign_id"] for c in quoted["breakdown"]["campaigns"]] == ["once", "first", "up"]
    quoted, bought = quote_then_buy(api, "m2", order)  # what it promised is what the purchase gives
    assert quoted == bought
    status, again = api.call("earn", "POST", f"{P}/m2/quotes", {"order_id": "o3", "amount_minor": 100})
    assert {"campaign_id": "once", "reason": "limit reached"} in again["campaigns_skipped"]
