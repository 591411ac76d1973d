"""A wallet effect's computed amount through the real handlers (moto): a stamp per unit ordered, at
most 3 an order (`{"wallet": {"id": "stamps", "amount": "order.units"}, "max": 3}`), and what PUT
says of a bad one, each problem named by its field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.handlers.conftest import Api
from tests.handlers.test_api import assert_error
from tests.handlers.test_wallets import CAKE, LATTES, P, assert_ledger_sums, at, buy, put, stamps  # noqa: F401
from tests.support import program

PER_UNIT = {
    "id": "stamp-per-unit",
    "name": "A stamp per unit ordered, 3 at most",
    "trigger": "purchase",
    "effects": [{"wallet": {"id": "stamps", "amount": "order.units"}, "max": 3}],
}


def per_unit(api: Api) -> None:
    doc = program("stamps")
    doc["campaigns"] = [PER_UNIT]
    put(api, doc)


def wallets_given(reply: dict[str, Any]) -> dict[str, int]:
    return {c["campaign_id"]: c["wallets"]["stamps"] for c in reply["breakdown"]["campaigns"] if c.get("wallets")}


@pytest.mark.usefixtures("at")  # the stamp card's clock and m1
def test_a_stamp_per_unit_ordered_capped_at_3(api: Api) -> None:
    per_unit(api)
    assert wallets_given(buy(api, "o1", CAKE)) == {"stamp-per-unit": 1}  # one unit
    assert wallets_given(buy(api, "o2", LATTES)) == {"stamp-per-unit": 2}  # two lattes
    assert wallets_given(buy(api, "o3", LATTES, CAKE)) == {"stamp-per-unit": 3}  # 3 units
    assert wallets_given(buy(api, "o4", {**LATTES, "quantity": 9})) == {"stamp-per-unit": 3}  # capped
    assert stamps(api) == 1 + 2 + 3 + 3
    assert_ledger_sums(api)


def test_put_names_every_problem_of_a_computed_wallet_amount(api: Api) -> None:
    doc = program("stamps")
    effects = [
        {"wallet": {"id": "stamps", "amount": "order.units > 1"}, "max": 3},  # a bool
        {"wallet": {"id": "stamps", "amount": "order.units"}},  # no max
        {"wallet": {"id": "stamps", "amount": 1}, "max": 3},  # max with a fixed amount
    ]
    doc["campaigns"] = [{**PER_UNIT, "id": f"c{k}", "effects": [e]} for k, e in enumerate(effects)]
    status, body = api.call("programs", "PUT", P, doc)
    assert_error(status, body, 422, "program_invalid")
    assert {d["field"] for d in body["error"]["details"]} == {
        "campaigns[0].effects[0].wallet.amount",
        "campaigns[1].effects[0].max",
        "campaigns[2].effects[0].max",
    }, body
