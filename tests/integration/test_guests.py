"""Guest orders on DynamoDB Local, through the local runtime (its stream feeds the health counter):
one order sent many times, one after another and at once, counts once; the conversion rate of a worked
example; no guest order makes a member."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.integration.conftest import Client
from tests.integration.test_health import wait_for


def test_guest_orders_count_once_and_members_converted(api: Client, pid: str) -> None:
    g = f"/programs/{pid}/guest-orders"
    order = {"order_id": "g-1", "amount_minor": 3000, "customer_ref": "crm-1"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: api.call("POST", g, order), range(8)))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 7 + [201], answers
    assert len({str(body) for _, body in answers}) == 1  # every repeat answers the first result
    assert api.call("POST", g, order)[0] == 200  # and once more, later
    assert api.call("POST", g, {**order, "amount_minor": 3001})[0] == 409
    for body in (
        {"order_id": "g-2", "amount_minor": 2000, "customer_ref": "crm-1"},
        {"order_id": "g-3", "amount_minor": 1000, "customer_ref": "crm-2"},
        {"order_id": "g-4", "amount_minor": 500, "customer_ref": "crm-3"},
        {"order_id": "g-5", "amount_minor": 1500},
    ):
        assert api.call("POST", g, body)[0] == 201
    assert api.call("GET", f"/programs/{pid}/members/crm-1")[0] == 404  # no member was made

    m = f"/programs/{pid}/members"
    enrolments: list[dict[str, Any]] = [
        {"member_id": "m1", "customer_ref": "crm-1", "channel": "app"},
        {"member_id": "m2", "customer_ref": "crm-2", "channel": "web"},
        {"member_id": "m3", "customer_ref": "crm-9", "channel": "app"},  # no guest order before
        {"member_id": "m4"},
    ]
    for body in enrolments:
        assert api.call("POST", m, body)[0] == 201
    assert api.call("POST", f"{m}/m1/purchases", {"order_id": "o-1", "amount_minor": 8000})[0] == 201

    def done(f: dict[str, Any]) -> bool:
        return (f["member_gmv_minor"], f["guest_gmv_minor"], f["converted_guests"], f["new_members"]) == (
            8000,
            8000,
            2,
            4,
        )

    figures = wait_for(api, pid, done)
    assert figures["guest_gmv_minor"] == 3000 + 2000 + 1000 + 500 + 1500
    assert figures["member_gmv_share"] == round(8000 / 16000, 4)
    assert (figures["guest_customers"], figures["converted_guests"]) == (3, 2)
    assert figures["conversion_rate"] == round(2 / 3, 4)
    assert figures["new_members_by_channel"] == {"app": 2, "web": 1}
    assert figures["members"] == 4
