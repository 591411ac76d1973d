"""The program document: valid templates pass, and every problem is reported at once."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from loyalty.errors import ProgramInvalid
from loyalty.usecases.programs import validate
from tests.support import program

TEMPLATES = sorted(Path(__file__).parents[2].joinpath("programs").glob("*.json"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_shipped_template_is_valid(path: Path) -> None:
    validate(json.loads(path.read_text()))


def problems_of(doc: dict) -> dict[str, str]:
    with pytest.raises(ProgramInvalid) as caught:
        validate(doc)
    return {d["field"]: d["message"] for d in caught.value.details}


def test_all_cross_field_problems_are_listed_together() -> None:
    doc = program("demo")
    doc["tiers"]["levels"][0]["threshold"] = 10
    doc["tiers"]["levels"][2]["threshold"] = 100000  # not above gold
    doc["tiers"]["levels"][1]["on_upgrade"]["coupons"] = ["missing-a"]
    doc["rewards"][0]["grant"]["coupons"] = ["missing-b"]
    doc["lifecycle"]["welcome"]["coupons"] = ["missing-c"]
    doc["lifecycle"]["recall"]["after_days"] = 30  # not after the churn warning
    doc["paid_cards"][0]["period_months"] = 4  # not a whole number of 3-month cycles
    doc["paid_cards"][0]["cycle_months"] = 3
    found = problems_of(doc)
    assert set(found) >= {
        "tiers.levels[0].threshold",
        "tiers.levels[2].threshold",
        "tiers.levels[1].on_upgrade.coupons[0]",
        "rewards[0].grant.coupons[0]",
        "lifecycle.welcome.coupons[0]",
        "lifecycle.recall.after_days",
        "paid_cards[0].cycle_months",
    }


def test_structural_problems_name_their_fields() -> None:
    doc = program("demo")
    doc["currency"] = "yuan"
    doc["timezone"] = "Mars/Olympus"
    doc["points"]["earn"]["unit_minor"] = 0
    doc["tiers"]["levels"][1]["threshhold"] = 5  # a typo is an error, not an ignored key
    found = problems_of(doc)
    assert {"currency", "timezone", "points.earn.unit_minor", "tiers.levels[1].threshhold"} <= set(found)


def test_duplicate_ids_and_light_card_cycles() -> None:
    doc = program("paid-card")
    doc["paid_cards"].append(copy.deepcopy(doc["paid_cards"][0]))
    doc["paid_cards"][1]["every_cycle"] = {"coupons": ["ship-free"]}  # the light card
    found = problems_of(doc)
    assert "paid_cards[3].id" in found and "paid_cards[1].every_cycle" in found


def test_coupon_kinds_need_their_values() -> None:
    doc = program("demo")
    doc["coupons"]["bad-pct"] = {"name": "x", "kind": "percent_off", "valid_days": 1}
    doc["coupons"]["bad-amt"] = {"name": "y", "kind": "amount_off", "valid_days": 1}
    found = problems_of(doc)
    assert {"coupons.bad-pct.percent_off", "coupons.bad-amt.value_minor"} <= set(found)
