"""Experiments (rules/experiments.py, issue 34): assignment, exposure, the per-arm counters and the
uplift's intervals, without AWS."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from loyalty.member import Profile
from loyalty.program import Program, problems
from loyalty.records import StreamRecord
from loyalty.rules import conditions, erasure, experiments, health
from loyalty.rules.posting import Change
from tests.unit.test_campaigns import T0, buy, campaign, doc


def member(**kw: Any) -> Profile:
    return Profile.model_validate({"program_id": "p", "member_id": "m", "enrolled_at": T0 - timedelta(days=40), **kw})


EXPERIMENT = {
    "holdout_percent": 10,
    "variants": [
        {"id": "a", "weight": 1, "effects": [{"points": 10}]},
        {"id": "b", "weight": 3, "effects": [{"points": 30}]},
    ],
}


def test_assignment_is_stable_across_versions_and_keeps_the_stated_shares() -> None:
    p = doc(campaign(experiment=EXPERIMENT))
    c = p.campaigns[0]
    ids = [f"m{k}" for k in range(10_000)]
    arms = Counter(experiments.assign("p1", c, mid) for mid in ids)
    # 10% holdout; the 90% left split 1:3.
    assert abs(arms["holdout"] / 10_000 - 0.10) < 0.02
    assert abs(arms["a"] / 10_000 - 0.225) < 0.02
    assert abs(arms["b"] / 10_000 - 0.675) < 0.02
    # Another version of the program (its name, another campaign's order, the variant's effects changed):
    # the same arm for every member.
    later = doc(
        campaign("other"),
        campaign(
            experiment={
                **EXPERIMENT,
                "variants": [
                    {"id": "a", "weight": 1, "effects": [{"points": 99}]},
                    {"id": "b", "weight": 3, "effects": [{"points": 1}]},
                ],
            }
        ),
    )
    c2 = later.campaigns[1]
    assert all(experiments.assign("p1", c, mid) == experiments.assign("p1", c2, mid) for mid in ids)
    # Per program and campaign: another program splits its members otherwise.
    assert sum(experiments.assign("p2", c, mid) != experiments.assign("p1", c, mid) for mid in ids) > 1000


def test_no_variants_is_main_and_an_arm_once_seen_stays() -> None:
    p = doc(campaign(experiment={"holdout_percent": 50}))
    c = p.campaigns[0]
    assert {experiments.assign("p", c, f"m{k}") for k in range(100)} == {"holdout", "main"}
    assert experiments.arms(c) == ["holdout", "main"]
    assert experiments.arms(doc(campaign(experiment={"holdout_percent": 0})).campaigns[0]) == ["main"]
    profile = member()
    experiments.expose(profile, c.id, "main", T0)
    assert all(
        experiments.arm("p", c, member(member_id=f"m{k}", experiments=profile.experiments)) == "main" for k in range(50)
    )


def _member_in(p: Program, arm: str) -> Profile:
    c = p.campaigns[0]
    mid = next(f"m{k}" for k in range(1000) if experiments.assign("p", c, f"m{k}") == arm)
    return member(member_id=mid)


def test_a_variant_gives_its_own_effects_and_the_holdout_nothing_but_is_exposed() -> None:
    p = doc(
        campaign(
            experiment=EXPERIMENT,
            when="order.amount_minor >= 1000",
            limits={"per_member": {"count": 1, "per": "campaign"}},
        )
    )
    change, applied = buy(p, _member_in(p, "b"))
    assert [(a.campaign_id, a.points) for a in applied] == [("tea-week", 30)]
    assert change.profile.experiments["tea-week"].arm == "b" and change.notices[-1].arm == "b"
    change, applied = buy(p, _member_in(p, "holdout"))
    held = change.profile
    assert applied == [] and change.balance == 0 and change.notices == []
    assert change.skipped == [{"campaign_id": "tea-week", "reason": "holdout"}]
    assert held.experiments["tea-week"].arm == "holdout" and held.experiments["tea-week"].at == T0
    assert held.campaigns["tea-week"].total == 1  # a use: its limit holds it as an arm's member
    # Not meeting the condition: no exposure.
    assert buy(p, _member_in(p, "holdout"), amount=500, items=[])[0].profile.experiments == {}


def test_campaign_arm_is_a_fact() -> None:
    p = doc(
        campaign(
            experiment={"holdout_percent": 0, "variants": [{"id": "a", "weight": 1, "effects": [{"points": 5}]}]},
            when="campaign.arm == 'a'",
        )
    )
    assert [a.points for a in buy(p, member())[1]] == [5]
    plain = doc(campaign(when="campaign.arm == 'main'"))
    assert [a.points for a in buy(plain, member())[1]] == [10]


def _problems(exp: dict[str, Any], trigger: str = "purchase") -> list[str]:
    d = doc().model_dump(mode="json", by_alias=True, exclude_none=True)
    d["campaigns"] = [campaign(experiment=exp, trigger=trigger)]
    try:
        found = problems(Program.model_validate(d))
    except Exception as exc:  # pydantic's own: the field is in its message
        return [str(exc)]
    return [f["field"] for f in found] + [f["field"] for f in conditions.campaign_problems(d)]


def test_the_experiment_is_checked_at_put() -> None:
    assert _problems(EXPERIMENT) == []
    assert "holdout_percent" in _problems({"holdout_percent": 101})[0]
    assert (
        "weight"
        in _problems({"holdout_percent": 1, "variants": [{"id": "a", "weight": 0, "effects": [{"points": 1}]}]})[0]
    )
    twice = {"holdout_percent": 1, "variants": [{"id": "a", "weight": 1, "effects": [{"points": 1}]}] * 2}
    assert _problems(twice) == ["campaigns[0].experiment.variants[1].id"]
    bad = {
        "holdout_percent": 1,
        "variants": [{"id": "a", "weight": 1, "effects": [{"points": "order.nope", "max": 5}]}],
    }
    assert _problems(bad) == ["campaigns[0].experiment.variants[0].effects[0].points"]
    wrong = {"holdout_percent": 1, "variants": [{"id": "a", "weight": 1, "effects": [{"percent_off": 5}]}]}
    assert _problems(wrong) == ["campaigns[0].experiment.variants[0].effects[0].percent_off"]


def test_orders_after_exposure_are_attributed_and_counted_per_arm() -> None:
    profile = member()
    experiments.attribute(profile, 999, T0)  # before any exposure: nothing
    experiments.expose(profile, "c", "holdout", T0)
    experiments.expose(profile, "c", "a", T0 + timedelta(days=1))  # the first exposure stays
    old = profile.model_dump(mode="json")
    experiments.attribute(profile, 300, T0 - timedelta(days=1))  # paid before the exposure: not after it
    experiments.attribute(profile, 300, T0 + timedelta(hours=1))
    mid = profile.model_dump(mode="json")
    experiments.attribute(profile, 200, T0 + timedelta(hours=2))
    new = profile.model_dump(mode="json")
    assert experiments.deltas(None, old) == {
        ("c", "holdout"): {"members_exposed": 1, "orders": 0, "spend_minor": 0, "spend_sq": 0, "repurchasers": 0}
    }
    assert experiments.deltas(old, mid)[("c", "holdout")] == {
        "members_exposed": 0,
        "orders": 1,
        "spend_minor": 300,
        "spend_sq": 90_000,
        "repurchasers": 0,
    }
    # 500^2 - 300^2: the member's spend since exposure is one value of the sum of squares
    assert experiments.deltas(mid, new)[("c", "holdout")] == {
        "members_exposed": 0,
        "orders": 1,
        "spend_minor": 200,
        "spend_sq": 160_000,
        "repurchasers": 1,
    }
    assert experiments.deltas(new, None) == {}


def test_the_stream_counter_adds_them_to_the_arms_item() -> None:
    p = doc(campaign(experiment=EXPERIMENT))
    before = member().model_dump(mode="json")
    after = member(experiments={"tea-week": {"arm": "a", "at": T0, "orders": 1, "spend_minor": 50}}).model_dump(
        mode="json"
    )
    out: health.Deltas = {}
    record = StreamRecord(
        program_id="p", kind="member", old=before, new=after, event_id="e1", member_id="m", committed=T0
    )
    health.deltas(record, p, T0, out)
    assert out[("p", ("experiment", "tea-week#a"))] == Counter(
        members_exposed=1, orders=1, spend_minor=50, spend_sq=2500
    )
    notice = {
        "kind": "campaign_applied",
        "campaign_id": "tea-week",
        "points": 200,
        "coupon_ids": ["cpn-1"],
        "coupon_templates": ["tea-5"],
        "arm": "a",
    }
    health.deltas(
        StreamRecord(program_id="p", kind="notice", old=None, new=notice, event_id="e2", member_id="m", committed=T0),
        p,
        T0,
        out,
    )
    assert out[("p", ("experiment", "tea-week#a"))]["points_given"] == 200
    assert out[("p", ("experiment", "tea-week#a"))]["coupons_minor"] == 500


def test_t_quantiles() -> None:
    assert experiments.t975(1) == 12.7062 and experiments.t975(30.9) == 2.0423
    # scipy.stats.t.ppf(0.975, df): 40 -> 2.02108, 60 -> 2.00030, 120 -> 1.97993, 1000 -> 1.96234
    for df, t in ((40, 2.02108), (60, 2.00030), (120, 1.97993), (1000, 1.96234)):
        assert experiments.t975(df) == pytest.approx(t, abs=2e-4)


def _sums(values: list[float]) -> tuple[int, float, float]:
    return len(values), sum(values), sum(v * v for v in values)


def test_welch_on_a_known_case() -> None:
    # Two small samples worked by hand (and by scipy.stats.ttest_ind(equal_var=False)):
    # a = [12, 14, 16]: mean 14, var 4; b = [8, 10, 9, 11, 12]: mean 10, var 2.5.
    # se = sqrt(4/3 + 2.5/5) = 1.35401; df = 1.83333^2 / ((1.33333^2)/2 + 0.5^2/4) = 3.5946 -> 3: t 3.1824
    got = experiments.welch(_sums([12, 14, 16]), _sums([8, 10, 9, 11, 12]))
    assert got == {"estimate": 4.0, "low": round(4 - 3.1824 * 1.354006, 2), "high": round(4 + 3.1824 * 1.354006, 2)}
    assert experiments.welch(_sums([1]), _sums([1, 2])) is None


def test_the_uplift_finds_a_known_effect_on_synthetic_data() -> None:
    """2,000 members a side: the holdout spends ~N(1000, 300), the variant 150 more; the holdout
    repurchases at 20%, the variant at 30%. The 95% intervals hold the true effects and exclude 0."""
    rng = random.Random(34)
    hold = [max(0.0, rng.gauss(1000, 300)) for _ in range(2000)]
    arm = [max(0.0, rng.gauss(1150, 300)) for _ in range(2000)]
    spend = experiments.welch(_sums(arm), _sums(hold))
    assert spend is not None and spend["low"] < 150 < spend["high"] and spend["low"] > 0
    assert spend["high"] - spend["low"] == pytest.approx(2 * 1.96 * (2 * 300**2 / 2000) ** 0.5, rel=0.1)
    back_h, back_a = sum(rng.random() < 0.2 for _ in range(2000)), sum(rng.random() < 0.3 for _ in range(2000))
    rate = experiments.wald((back_a, 2000), (back_h, 2000))
    assert rate is not None and rate["low"] < 0.1 < rate["high"] and rate["low"] > 0


def test_the_report_rows() -> None:
    p = doc(campaign(experiment=EXPERIMENT))
    counted = {
        "holdout": {
            "members_exposed": 2,
            "orders": 2,
            "spend_minor": 300,
            "spend_sq": 100**2 + 200**2,
            "repurchasers": 0,
        },
        "a": {
            "members_exposed": 2,
            "orders": 4,
            "spend_minor": 700,
            "spend_sq": 300**2 + 400**2,
            "repurchasers": 1,
            "points_given": 250,
        },
    }
    rows = experiments.report(p, p.campaigns[0], counted)
    assert [r["arm"] for r in rows] == ["holdout", "a", "b"]
    hold, a, b = rows
    assert hold == {
        "arm": "holdout",
        "members_exposed": 2,
        "cost_minor": 0,
        "orders_per_member": 1.0,
        "spend_per_member_minor": 150.0,
        "repurchase_rate": 0.0,
    }
    assert (
        a["cost_minor"] == 250
        and a["spend_per_member_minor"] == 350.0
        and a["uplift"]["spend_per_member_minor"]["estimate"] == 200.0
    )
    assert a["uplift"]["repurchase_rate"]["estimate"] == 0.5
    assert "uplift" not in b and b["members_exposed"] == 0


def test_an_erased_member_stays_counted_once() -> None:
    """The erasure deletes the profile (nothing taken off) and writes the pseudonym's as a new item:
    without exposures, or the counter would count them again."""
    p = doc(campaign(experiment=EXPERIMENT))
    profile = member(experiments={"tea-week": {"arm": "a", "at": T0, "orders": 3, "spend_minor": 900}})
    old = profile.model_dump(mode="json")
    change = Change.start(p, profile, T0)
    erasure.erase(change, "erased-1")
    assert experiments.deltas(old, None) == {}
    assert experiments.deltas(None, change.profile.model_dump(mode="json")) == {}
