"""GET /programs/{program_id}/campaigns/{campaign_id}/experiment (issue 34): holdout members who meet
the campaign get nothing but are exposed and counted; orders after exposure go through the stream
(moto's, fed to the real health counter) into the arms' sums, and the route reads them in one Query."""

from __future__ import annotations

import statistics
from typing import Any

from loyalty.program import Campaign
from loyalty.rules import experiments
from tests.handlers.conftest import Api
from tests.handlers.test_checkout_figures import Stream
from tests.support import Context, load_function, program

EXP = {
    "id": "exp",
    "name": "welcome back",
    "trigger": "purchase",
    "when": "order.amount_minor >= 1000",
    "effects": [{"points": 100}],
    "limits": {"per_member": {"count": 1, "per": "campaign"}},
    "experiment": {"holdout_percent": 50, "variants": [{"id": "a", "weight": 1, "effects": [{"points": 300}]}]},
}
# What each member spends after its exposing order, order by order: the variant's members spend 500
# more in all, over two orders each; the holdout's once each.
HOLDOUT_SPEND = [[1000], [1200], [800], [1000], [1100], [900]]
ARM_SPEND = [[1000, 500], [1000, 700], [900, 400], [1000, 500], [1200, 400], [700, 700]]


def members(arm: str, n: int) -> list[str]:
    c = Campaign.model_validate(EXP)
    return [mid for k in range(200) if experiments.assign("demo", c, mid := f"m{k}") == arm][:n]


def buy(api: Api, mid: str, order_id: str, amount: int) -> dict[str, Any]:
    status, body = api.call(
        "earn", "POST", f"/programs/demo/members/{mid}/purchases", {"order_id": order_id, "amount_minor": amount}
    )
    assert status == 201, body
    return body


def test_holdout_members_get_nothing_are_counted_and_the_uplift_is_read(api: Api) -> None:
    doc = program("demo")
    doc["campaigns"] = [EXP]
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    stream = Stream()
    held, treated = members("holdout", 6), members("a", 6)
    for mid, spends in [*zip(held, HOLDOUT_SPEND, strict=True), *zip(treated, ARM_SPEND, strict=True)]:
        assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": mid})[0] == 201
        first = buy(api, mid, f"{mid}-0", 2000)  # the exposing order: not one of its orders after
        assert [c["points"] for c in first["breakdown"]["campaigns"]] == ([] if mid in held else [300]), first
        for k, amount in enumerate(spends, 1):
            buy(api, mid, f"{mid}-{k}", amount)
    load_function("count_health").handler({"Records": stream.new()}, Context())

    status, body = api.call("programs", "GET", "/programs/demo/campaigns/exp/experiment")
    assert status == 200, body
    hold, arm = body["arms"]
    assert (hold["arm"], hold["members_exposed"], hold["cost_minor"]) == ("holdout", 6, 0)
    assert (hold["orders_per_member"], hold["spend_per_member_minor"], hold["repurchase_rate"]) == (1.0, 1000.0, 0.0)
    assert "uplift" not in hold
    value = doc["points"]["value"]
    assert (arm["arm"], arm["members_exposed"], arm["cost_minor"]) == (
        "a",
        6,
        6 * 300 * value["worth_minor"] // value["points"],
    )
    assert (arm["orders_per_member"], arm["spend_per_member_minor"], arm["repurchase_rate"]) == (2.0, 1500.0, 1.0)
    # Each member's spend since exposure as one value (its two orders summed): Welch's interval from them.
    h, a = [sum(s) for s in HOLDOUT_SPEND], [sum(s) for s in ARM_SPEND]
    va, vh = statistics.variance(a) / 6, statistics.variance(h) / 6
    df = (va + vh) ** 2 / (va**2 / 5 + vh**2 / 5)
    half = experiments.t975(df) * (va + vh) ** 0.5
    spend = arm["uplift"]["spend_per_member_minor"]
    assert spend == {"estimate": 500.0, "low": round(500 - half, 2), "high": round(500 + half, 2)}
    assert spend["low"] > 0  # a known effect: found
    assert arm["uplift"]["repurchase_rate"] == {"estimate": 1.0, "low": 1.0, "high": 1.0}  # no spread on either side


def test_a_holdout_member_gets_nothing_and_the_arms_are_counted_by_campaign(api: Api) -> None:
    doc = program("demo")
    doc["campaigns"] = [EXP]
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    [mid] = members("holdout", 1)
    assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": mid})[0] == 201
    before = api.call("members", "GET", f"/programs/demo/members/{mid}")[1]["points"]["balance"]
    stream = Stream()
    body = buy(api, mid, "o1", 2000)
    assert body["breakdown"]["campaigns"] == [] and body["balance"] - before == body["points_earned"]  # its own only
    load_function("count_health").handler({"Records": stream.new()}, Context())
    _, report = api.call("programs", "GET", "/programs/demo/campaigns/exp/experiment")
    assert [(r["arm"], r["members_exposed"]) for r in report["arms"]] == [("holdout", 1), ("a", 0)]
    # The campaigns report: a holdout exposure is no application.
    _, figures = api.call("programs", "GET", "/programs/demo/campaigns/exp")
    assert figures["applications"] == 0
    status, missing = api.call("programs", "GET", "/programs/demo/campaigns/nope/experiment")
    assert status == 404 and missing["error"]["code"] == "not_found"


def test_an_arm_giving_coupons_costs_their_face_value(api: Api) -> None:
    """An arm's cost counts the coupons it gave at their templates' face value (the notice names them)."""
    doc = program("demo")
    doc["campaigns"] = [
        {
            **EXP,
            "experiment": {
                "holdout_percent": 0,
                "variants": [{"id": "a", "weight": 1, "effects": [{"coupons": ["off-5", "welcome-10"]}]}],
            },
        }
    ]
    assert api.call("programs", "PUT", "/programs/demo", doc)[0] == 200
    stream = Stream()
    for mid in ("c1", "c2"):
        assert api.call("enrol", "POST", "/programs/demo/members", {"member_id": mid})[0] == 201
        buy(api, mid, f"{mid}-0", 2000)
    load_function("count_health").handler({"Records": stream.new()}, Context())
    status, body = api.call("programs", "GET", "/programs/demo/campaigns/exp/experiment")
    assert status == 200, body
    (arm,) = [a for a in body["arms"] if a["arm"] == "a"]
    assert (arm["members_exposed"], arm["cost_minor"]) == (2, 2 * (500 + 1000))
