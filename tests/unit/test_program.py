"""The program document (shared/API.md, "The program document"): the contract's demo validates, and a
broken document is refused with ProgramInvalid whose details name every problem, each by its field path."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from loyalty.errors import ProgramInvalid, field_path
from loyalty.program import SENT, Program
from loyalty.usecases.programs import validate

# Verbatim from shared/API.md, so a change to the contract's example shows up here.
API_DEMO: dict[str, Any] = json.loads(
    """
{
  "name": "Demo Coffee", "currency": "CNY", "timezone": "Asia/Shanghai",
  "points": {
    "earn": {"points_per_unit": 1, "unit_minor": 100, "min_order_minor": 0},
    "value": {"points": 100, "worth_minor": 100},
    "expiry": {"policy": "rolling_months", "months": 12},
    "activities": {"check_in": {"points": 5, "daily_cap": 1}, "share": {"points": 10, "daily_cap": 3}},
    "multipliers": [{"id": "member-day", "day_of_month": 8, "factor": 2}],
    "stacking": "max"
  },
  "coupons": {
    "welcome-10": {"name": "10 off 50", "kind": "amount_off", "value_minor": 1000, "min_spend_minor": 5000, "valid_days": 30}
  },
  "tiers": {
    "metric": "spend", "window_months": 6,
    "review": {"every_months": 1, "grace_reviews": 1},
    "levels": [
      {"id": "star", "name": "新星", "threshold": 0, "earn_multiplier": 1},
      {"id": "gold", "name": "黄金", "threshold": 100000, "earn_multiplier": 1.2,
       "on_upgrade": {"coupons": ["welcome-10"]}, "every_month": {"coupons": ["welcome-10"]}},
      {"id": "diamond", "name": "钻石", "threshold": 500000, "earn_multiplier": 1.5}
    ]
  },
  "rewards": [{"id": "coupon-5", "name": "5 off", "cost_points": 500, "grant": {"coupons": ["welcome-10"]},
               "stock": null, "per_member_limit": null}],
  "lifecycle": {
    "welcome": {"points": 100, "coupons": ["welcome-10"]},
    "first_order": {"within_days": 7, "points": 200},
    "churn_warning": {"after_days": 30, "coupons": ["welcome-10"], "earn_multiplier": 2, "multiplier_days": 14},
    "recall": {"after_days": 90, "coupons": ["welcome-10"]},
    "birthday": {"coupons": ["welcome-10"]}
  },
  "paid_cards": [{"id": "plus-quarter", "name": "PLUS", "kind": "identity", "price_minor": 4500,
                  "period_months": 3, "cycle_months": 1, "on_purchase": {"coupons": ["welcome-10"]},
                  "every_cycle": {"coupons": ["welcome-10"]}, "earn_multiplier": 1.5}]
}
"""  # noqa: E501 (kept verbatim)
)

LIGHT_CARD: dict[str, Any] = {"id": "pack", "name": "Pack", "kind": "light", "price_minor": 990, "period_months": 1}


def demo() -> dict[str, Any]:
    return copy.deepcopy(API_DEMO)


def details_of(doc: Any) -> list[dict[str, str]]:
    with pytest.raises(ProgramInvalid) as caught:
        validate(doc)
    return caught.value.details


def fields_of(doc: Any) -> set[str]:
    return {d["field"] for d in details_of(doc)}


# --- the valid document -------------------------------------------------------------------------


def test_the_contract_demo_program_validates() -> None:
    program = validate(demo())
    assert isinstance(program, Program)
    assert [lvl.id for lvl in program.tiers.levels] == ["star", "gold", "diamond"]


def test_json_floats_become_exact_decimals() -> None:
    program = validate(demo())
    assert str(program.level("gold").earn_multiplier) == "1.2"
    assert program.level("gold").earn_multiplier * 100 == 120


def test_optional_sections_may_be_left_out() -> None:
    minimal = {"name": "Bare", "currency": "EUR", "points": {"earn": {"points_per_unit": 1, "unit_minor": 100}}}
    program = validate(minimal)
    assert program.timezone == "UTC" and program.tiers is None and program.points.expiry.months == 12


# --- cross-field problems, one at a time ------------------------------------------------------------


def edit(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting `value` at a dotted path (integers index lists)."""

    def apply(doc: dict[str, Any]) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target: Any = doc
        for part in parents:
            target = target[part]
        target[last] = value

    return apply


def append(path: str, item: Any) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        target: Any = doc
        for part in path.split("."):
            target = target[int(part) if part.isdigit() else part]
        target.append(copy.deepcopy(item))

    return apply


CROSS_FIELD = [
    pytest.param(edit("tiers.levels.0.threshold", 10), "tiers.levels[0].threshold", id="first-threshold-not-0"),
    pytest.param(edit("tiers.levels.2.threshold", 100000), "tiers.levels[2].threshold", id="threshold-equal"),
    pytest.param(edit("tiers.levels.2.threshold", 99999), "tiers.levels[2].threshold", id="threshold-decreasing"),
    pytest.param(
        edit("tiers.levels.1.on_upgrade.coupons", ["nope"]),
        "tiers.levels[1].on_upgrade.coupons[0]",
        id="unknown-coupon-on-upgrade",
    ),
    pytest.param(
        edit("tiers.levels.1.every_month.coupons", ["welcome-10", "nope"]),
        "tiers.levels[1].every_month.coupons[1]",
        id="unknown-coupon-every-month",
    ),
    pytest.param(edit("rewards.0.grant.coupons", ["nope"]), "rewards[0].grant.coupons[0]", id="unknown-coupon-reward"),
    pytest.param(edit("rewards.0.grant.coupons", []), "rewards[0].grant.coupons", id="coupon-reward-grants-nothing"),
    pytest.param(
        edit("lifecycle.welcome.coupons", ["nope"]), "lifecycle.welcome.coupons[0]", id="unknown-coupon-welcome"
    ),
    pytest.param(
        edit("lifecycle.churn_warning.coupons", ["nope"]),
        "lifecycle.churn_warning.coupons[0]",
        id="unknown-coupon-churn-warning",
    ),
    pytest.param(edit("lifecycle.recall.coupons", ["nope"]), "lifecycle.recall.coupons[0]", id="unknown-coupon-recall"),
    pytest.param(
        edit("lifecycle.birthday.coupons", ["nope"]), "lifecycle.birthday.coupons[0]", id="unknown-coupon-birthday"
    ),
    pytest.param(
        edit("paid_cards.0.on_purchase.coupons", ["nope"]),
        "paid_cards[0].on_purchase.coupons[0]",
        id="unknown-coupon-card-purchase",
    ),
    pytest.param(
        edit("paid_cards.0.every_cycle.coupons", ["nope"]),
        "paid_cards[0].every_cycle.coupons[0]",
        id="unknown-coupon-card-cycle",
    ),
    pytest.param(edit("lifecycle.recall.after_days", 30), "lifecycle.recall.after_days", id="recall-same-day-as-churn"),
    pytest.param(edit("lifecycle.recall.after_days", 10), "lifecycle.recall.after_days", id="recall-before-churn"),
    pytest.param(
        append("tiers.levels", {"id": "gold", "name": "Gold again", "threshold": 900000}),
        "tiers.levels[3].id",
        id="duplicate-level-id",
    ),
    pytest.param(
        append("rewards", API_DEMO["rewards"][0] | {"name": "same id"}), "rewards[1].id", id="duplicate-reward-id"
    ),
    pytest.param(append("paid_cards", LIGHT_CARD | {"id": "plus-quarter"}), "paid_cards[1].id", id="duplicate-card-id"),
    pytest.param(
        append("points.multipliers", {"id": "member-day", "factor": 3}),
        "points.multipliers[1].id",
        id="duplicate-multiplier-id",
    ),
    pytest.param(
        edit("coupons.pct", {"name": "pct", "kind": "percent_off", "valid_days": 7}),
        "coupons.pct.percent_off",
        id="percent-off-without-percent",
    ),
    pytest.param(
        edit("coupons.amt", {"name": "amt", "kind": "amount_off", "valid_days": 7}),
        "coupons.amt.value_minor",
        id="amount-off-without-value",
    ),
    pytest.param(
        append("paid_cards", LIGHT_CARD | {"every_cycle": {"coupons": ["welcome-10"]}}),
        "paid_cards[1].every_cycle",
        id="light-card-with-every-cycle",
    ),
    pytest.param(edit("paid_cards.0.cycle_months", 2), "paid_cards[0].cycle_months", id="period-not-whole-cycles"),
    pytest.param(
        edit("paid_cards.0.cycle_months", None), "paid_cards[0].cycle_months", id="every-cycle-without-cycle-months"
    ),
    pytest.param(
        edit("tag_benefits", {"baby": {"coupons": ["welcome-10", "nope"]}}),
        "tag_benefits.baby.coupons[1]",
        id="unknown-coupon-tag-benefit",
    ),
    pytest.param(
        # Five tags of 20 coupons each, with gold's monthly coupon and the birthday gift: 102 + 11 items.
        edit("tag_benefits", {f"t{i}": {"coupons": ["welcome-10"] * 20} for i in range(5)}),
        "tag_benefits",
        id="tag-benefits-over-one-transaction",
    ),
]


@pytest.mark.parametrize(("mutate", "field"), CROSS_FIELD)
def test_each_cross_field_problem_is_refused_naming_its_field(
    mutate: Callable[[dict[str, Any]], None], field: str
) -> None:
    doc = demo()
    mutate(doc)
    details = details_of(doc)
    assert [d["field"] for d in details] == [field]
    assert details[0]["message"]


def test_tag_benefits_fit_one_transaction_up_to_the_bound() -> None:
    doc = demo()
    doc["tag_benefits"] = {f"t{i}": {"coupons": ["welcome-10"] * 4} for i in range(4)} | {"baby": {"points": 10}}
    assert validate(doc).tag_benefits["baby"].points == 10  # 16 coupons + 1 entry + 2: well inside
    doc["tag_benefits"] = {f"t{i}": {} for i in range(51)}
    assert fields_of(doc) == {"tag_benefits"}  # at most MAX_TAGS tags with a benefit


def test_every_cross_field_problem_is_listed_at_once() -> None:
    doc = demo()
    levels = doc["tiers"]["levels"]
    levels[0]["threshold"] = 10
    levels[2]["threshold"] = 100000
    levels[1]["on_upgrade"]["coupons"] = ["nope-1"]
    levels[1]["every_month"]["coupons"] = ["welcome-10", "nope-2"]
    levels.append({"id": "gold", "name": "Gold again", "threshold": 900000})
    doc["rewards"][0]["grant"]["coupons"] = ["nope-3"]
    doc["rewards"].append(doc["rewards"][0] | {"grant": {"coupons": []}})
    life = doc["lifecycle"]
    for stage in ("welcome", "churn_warning", "recall", "birthday"):
        life[stage]["coupons"] = ["nope-4"]
    life["recall"]["after_days"] = 20
    doc["paid_cards"][0].update(period_months=4, cycle_months=3)
    doc["paid_cards"][0]["on_purchase"]["coupons"] = ["nope-5"]
    doc["paid_cards"][0]["every_cycle"]["coupons"] = ["nope-6"]
    doc["paid_cards"].append(LIGHT_CARD | {"id": "plus-quarter", "every_cycle": {"coupons": ["welcome-10"]}})
    doc["points"]["multipliers"].append({"id": "member-day", "factor": 3})
    doc["coupons"]["pct"] = {"name": "pct", "kind": "percent_off", "valid_days": 7}

    details = details_of(doc)

    assert all(set(d) == {"field", "message"} and d["message"] for d in details)
    assert sorted(d["field"] for d in details) == sorted(
        [
            "tiers.levels[0].threshold",
            "tiers.levels[2].threshold",
            "tiers.levels[1].on_upgrade.coupons[0]",
            "tiers.levels[1].every_month.coupons[1]",
            "tiers.levels[3].id",
            "rewards[0].grant.coupons[0]",
            "rewards[1].id",
            "rewards[1].grant.coupons",
            "lifecycle.welcome.coupons[0]",
            "lifecycle.churn_warning.coupons[0]",
            "lifecycle.recall.coupons[0]",
            "lifecycle.birthday.coupons[0]",
            "lifecycle.recall.after_days",
            "paid_cards[0].cycle_months",
            "paid_cards[0].on_purchase.coupons[0]",
            "paid_cards[0].every_cycle.coupons[0]",
            "paid_cards[1].id",
            "paid_cards[1].every_cycle",
            "points.multipliers[1].id",
            "coupons.pct.percent_off",
        ]
    )


def test_program_invalid_carries_the_contract_code_and_status() -> None:
    doc = demo()
    doc["tiers"]["levels"][0]["threshold"] = 1
    with pytest.raises(ProgramInvalid) as caught:
        validate(doc)
    assert (caught.value.code, caught.value.status) == ("program_invalid", 422)
    assert "1 problem" in caught.value.message


# --- structural problems (pydantic) ---------------------------------------------------------------


def test_an_unknown_time_zone_is_refused() -> None:
    doc = demo() | {"timezone": "Mars/Olympus_Mons"}
    assert fields_of(doc) == {"timezone"}


@pytest.mark.parametrize("zone", ["", "asia/shanghai", "Asia/", "../etc/passwd", "zone.tab"])
def test_malformed_time_zones_are_refused_not_crashing(zone: str) -> None:
    assert fields_of(demo() | {"timezone": zone}) == {"timezone"}


def test_a_typo_in_a_rule_is_refused_not_ignored() -> None:
    doc = demo()
    doc["tiers"]["levels"][1]["threshhold"] = 5
    details = details_of(doc)
    assert [d["field"] for d in details] == ["tiers.levels[1].threshhold"]
    assert "unknown key 'threshhold'" in details[0]["message"] and "threshold" in details[0]["message"]


def test_a_typo_at_the_top_level_is_refused() -> None:
    doc = demo()
    doc["tier"] = doc.pop("tiers")
    assert fields_of(doc) == {"tier"}


def test_a_misspelt_required_field_is_reported_as_missing_and_as_unknown() -> None:
    doc = demo()
    doc["points"]["earn"]["point_per_unit"] = doc["points"]["earn"].pop("points_per_unit")
    assert fields_of(doc) == {"points.earn.points_per_unit", "points.earn.point_per_unit"}


def test_every_structural_problem_is_listed_at_once() -> None:
    doc = demo()
    doc["currency"] = "yuan"
    doc["timezone"] = "Nowhere/Town"
    doc["points"]["earn"]["unit_minor"] = 0
    doc["points"]["multipliers"][0]["factor"] = 1.2345  # more than 3 decimal places
    doc["points"]["stacking"] = "add"
    doc["tiers"]["levels"][1]["threshhold"] = 5
    doc["paid_cards"][0]["earn_multiplier"] = 0.5
    doc["rewards"][0]["cost_points"] = 0
    assert fields_of(doc) == {
        "currency",
        "timezone",
        "points.earn.unit_minor",
        "points.multipliers[0].factor",
        "points.stacking",
        "tiers.levels[1].threshhold",
        "paid_cards[0].earn_multiplier",
        "rewards[0].cost_points",
    }


def test_structural_and_cross_field_problems_are_listed_together() -> None:
    doc = demo()
    doc["timezone"] = "Nowhere/Town"
    doc["tiers"]["levels"][2]["threshold"] = 1
    assert fields_of(doc) == {"timezone", "tiers.levels[2].threshold"}


def test_a_broken_section_hides_only_the_problems_that_lean_on_it() -> None:
    doc = demo()
    doc["coupons"]["welcome-10"]["kind"] = "bogus"  # coupons broken: references to it are not judged
    doc["tiers"]["levels"][2]["threshold"] = 1
    doc["name"] = ""  # a required field broken: a stand-in lets the rest be checked
    assert fields_of(doc) == {"coupons.welcome-10.kind", "name", "tiers.levels[2].threshold"}


def campaign(cid: str, **kw: Any) -> dict[str, Any]:
    return {"id": cid, "name": cid, "trigger": "purchase", "effects": [{"points": 10}], **kw}


def test_a_duplicate_campaign_id_is_listed_with_another_campaigns_schema_error() -> None:
    doc = demo()
    broken = campaign("c", limits={"budget": {"points": -1}})
    doc["campaigns"] = [campaign("a"), campaign("a"), broken, campaign("c", effects=[{"coupons": ["nope"]}])]
    assert fields_of(doc) == {
        "campaigns[1].id",  # two sound ones
        "campaigns[2].limits.budget.points",
        "campaigns[3].id",  # a sound one after the broken one with its id
        "campaigns[3].effects[0].coupons[0]",
    }


def test_a_broken_reward_or_card_hides_none_of_the_others_problems() -> None:
    doc = demo()
    doc["rewards"] += [
        API_DEMO["rewards"][0] | {"cost_points": 0},
        API_DEMO["rewards"][0] | {"id": "r2", "grant": {"coupons": ["nope"]}},
    ]
    doc["paid_cards"] += [LIGHT_CARD | {"price_minor": 0}, LIGHT_CARD | {"id": "plus-quarter"}]
    assert fields_of(doc) == {
        "rewards[1].cost_points",
        "rewards[1].id",  # a duplicate of rewards[0], broken or not
        "rewards[2].grant.coupons[0]",
        "paid_cards[1].price_minor",
        "paid_cards[2].id",
    }


def test_a_duplicate_level_is_listed_with_a_broken_levels_problem() -> None:
    doc = demo()
    doc["tiers"]["levels"][2] |= {"id": "gold", "name": ""}
    assert fields_of(doc) == {"tiers.levels[2].id", "tiers.levels[2].name"}


def test_an_unknown_effect_or_limit_key_names_the_valid_keys() -> None:
    doc = demo()
    doc["campaigns"] = [campaign("a", effects=[{"point": 10}], limits={"per_members": {"count": 1, "per": "day"}})]
    by_field = {d["field"]: d["message"] for d in details_of(doc)}
    effect = by_field["campaigns[0].effects[0].point"]
    assert "unknown key 'point'" in effect and "points, multiply_points, points_per_unit, on_items, coupons" in effect
    assert "per_member, budget" in by_field["campaigns[0].limits.per_members"]
    assert "Extra inputs" not in " ".join(by_field.values())


def test_no_message_carries_pydantics_value_error_prefix() -> None:
    doc = demo()
    doc["timezone"] = "Mars/Base"
    doc["campaigns"] = [campaign("a", effects=[{"points": 1, "growth": 1}])]
    details = details_of(doc)
    assert {d["field"] for d in details} == {"timezone", "campaigns[0].effects[0]"}
    assert not [d for d in details if d["message"].startswith("Value error")], details
    assert "unknown time zone 'Mars/Base'" in [d["message"] for d in details]


@pytest.mark.parametrize("doc", [None, [], "program", 42])
def test_a_document_that_is_not_an_object_is_refused(doc: Any) -> None:
    assert len(details_of(doc)) == 1


def test_field_paths_use_dots_for_keys_and_brackets_for_indexes() -> None:
    assert field_path(("tiers", "levels", 1, "threshold")) == "tiers.levels[1].threshold"
    assert field_path(("paid_cards", 0, "on_purchase", "coupons", 2)) == "paid_cards[0].on_purchase.coupons[2]"
    assert field_path(("coupons", "welcome-10", "kind")) == "coupons.welcome-10.kind"
    assert field_path(("timezone",)) == "timezone"


TEMPLATES = sorted(Path(__file__).parents[2].joinpath("programs").glob("*.json"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_shipped_template_is_valid(path: Path) -> None:
    validate(json.loads(path.read_text()))


def test_a_decimal_string_is_refused_when_sent_but_a_stored_one_still_loads() -> None:
    doc = copy.deepcopy(API_DEMO)
    doc["tiers"]["levels"][1]["earn_multiplier"] = "1.2"
    assert Program.model_validate(doc).tiers.levels[1].earn_multiplier == Decimal("1.2")  # stored before the rule
    with pytest.raises(ValidationError) as refused:
        Program.model_validate(doc, context=SENT)
    assert [e["loc"] for e in refused.value.errors()] == [("tiers", "levels", 1, "earn_multiplier")]
