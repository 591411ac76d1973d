"""A redemption cancelled under contention, through the real handlers on DynamoDB Local."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Client
from tests.integration.test_parallel import assert_ledger_is_the_balance, full_ledger, parallel
from tests.integration.test_parallel_spending import member_with_points, shop


def redeem(api: Client, pid: str, member: str, rid: str, reward: str) -> dict[str, Any]:
    body = {"redemption_id": rid, "reward_id": reward}
    status, reply = api.call("POST", f"/programs/{pid}/members/{member}/redemptions", body)
    assert status == 201, reply
    return reply


def test_eight_parallel_cancels_of_one_redemption_give_back_once(api: Client) -> None:
    pid = shop(api, mug_stock=1)  # the mug costs 10 here
    held = member_with_points(api, pid, "m1", 100000)
    member_with_points(api, pid, "m2", 100000)
    redeem(api, pid, "m1", "r-mug", "mug")
    spent = redeem(api, pid, "m1", "r-coffee", "coffee")
    cancel = f"/programs/{pid}/members/m1/redemptions/r-coffee/cancel"
    mug = f"/programs/{pid}/members/m1/redemptions/r-mug/cancel"
    results = parallel([lambda: api.call("POST", cancel, {})] * 8 + [lambda: api.call("POST", mug)] * 8)
    assert {s for s, _ in results} == {200}, results
    coffee = results[:8]
    assert all(b == coffee[0][1] for _, b in coffee), results
    assert coffee[0][1]["coupons_revoked"] == [spent["coupons"][0]["coupon_id"]]
    restores = [e for e in full_ledger(api, pid, "m1") if e["type"] == "restore"]
    assert sorted(e["points"] for e in restores) == [10, 300]  # one entry each, whichever call won
    assert assert_ledger_is_the_balance(api, pid, "m1") == held
    # The mug's one unit came back once: one more member gets it, the next does not.
    redeem(api, pid, "m2", "r2-mug", "mug")
    body = {"redemption_id": "r3-mug", "reward_id": "mug"}
    status, reply = api.call("POST", f"/programs/{pid}/members/m2/redemptions", body)
    assert status == 409 and reply["error"]["code"] == "out_of_stock", reply


def test_a_cancel_racing_a_use_of_its_coupon_one_wins(api: Client) -> None:
    pid = shop(api)
    held = member_with_points(api, pid, "m1", 1000000)
    won = {"cancel": 0, "use": 0}
    for i in range(6):
        coupon = redeem(api, pid, "m1", f"r{i}", "coffee")["coupons"][0]["coupon_id"]
        cancel = f"/programs/{pid}/members/m1/redemptions/r{i}/cancel"
        use = f"/programs/{pid}/members/m1/coupons/{coupon}/use"
        till = {"order_id": f"t{i}", "order_amount_minor": 900}
        (cancelled, c_body), (used, u_body) = parallel(
            [lambda c=cancel: api.call("POST", c), lambda u=use, t=till: api.call("POST", u, t)]
        )
        assert sorted([cancelled, used]) == [200, 409], (c_body, u_body)
        loser = c_body if cancelled == 409 else u_body
        assert loser["error"]["code"] in ("coupon_unavailable", "conflict"), loser
        won["cancel" if cancelled == 200 else "use"] += 1
        wallet = {c["coupon_id"]: c for c in api.call("GET", f"/programs/{pid}/members/m1/coupons")[1]["coupons"]}
        assert (wallet[coupon]["status"] == "used") == (used == 200)
    balance = assert_ledger_is_the_balance(api, pid, "m1")
    assert balance == held - 300 * won["use"], won
