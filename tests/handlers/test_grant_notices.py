"""Every grant a member receives leaves a notice (README "Notices"), through the real handlers (moto):
the birthday gift (benefits sweep), the churn warning's and the recall's offers (churn sweep), either
side's referral reward, and a stamp campaign's notice saying its stamps. Each once: a repeated sweep
for the same time, or a redelivered stream record, adds none."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from loyalty.runtime import store
from loyalty.schemas import Enrol
from loyalty.usecases import members, programs, scheduler
from tests.handlers.conftest import Api
from tests.handlers.test_referral import REFERRAL, code_of, enrol, referred_order, rewards, with_referral
from tests.support import program

P = "/programs/demo"
T0 = datetime(2026, 1, 5, 4, tzinfo=UTC)  # 12:00 in Shanghai


def notices(api: Api, member: str, pid: str = "demo") -> list[dict[str, Any]]:
    status, body = api.call("members", "GET", f"/programs/{pid}/members/{member}/notices", query={"limit": "100"})
    assert status == 200, body
    return body["notices"]


def of(api: Api, member: str, kind: str) -> list[dict[str, Any]]:
    return [n for n in notices(api, member) if n["kind"] == kind]


def sweep(kind: str, at: datetime) -> int:
    settled = 0
    for item in scheduler.plan(at, [kind]):
        stats, _ = scheduler.work(store(), item, lambda: 900)
        settled += stats.get("members_settled", 0)
    return settled


def test_the_birthday_gift_is_a_notice_once_newest_first(api: Api) -> None:
    doc = program("demo")
    doc["lifecycle"]["birthday"]["points"] = 50
    doc["tiers"]["levels"][0].pop("every_month", None)
    programs.save(store(), "demo", doc)
    members.enrol(store(), "demo", Enrol(member_id="m1", birthday="1990-01-20"), T0)
    members.enrol(store(), "demo", Enrol(member_id="m2", birthday="1990-07-20"), T0)
    assert sweep("benefits", T0) >= 1
    [gift] = of(api, "m1", "birthday_gift")
    assert gift["text"] == "Happy birthday: you got 50 points and 1 coupon"
    assert gift["ref"] == "birthday:2026-01" and gift["points"] == 50 and len(gift["coupon_ids"]) == 1
    assert notices(api, "m1")[0] == gift  # the newest
    assert of(api, "m2", "birthday_gift") == []  # not m2's birthday month
    before = notices(api, "m1")
    assert sweep("benefits", T0) == 0 and notices(api, "m1") == before  # a repeat: no second notice
    later = datetime(2026, 1, 20, 4, tzinfo=UTC)
    sweep("benefits", later)
    assert len(of(api, "m1", "birthday_gift")) == 1  # the month is settled: nothing more


def test_a_spent_birthday_budget_gives_no_notice(api: Api) -> None:
    doc = program("demo")
    doc["lifecycle"]["birthday"]["budget"] = 1
    programs.save(store(), "demo", doc)
    for i in range(2):
        members.enrol(store(), "demo", Enrol(member_id=f"m{i}", birthday="1990-01-20"), T0)
    sweep("benefits", T0)
    assert sorted(len(of(api, f"m{i}", "birthday_gift")) for i in range(2)) == [0, 1]


def test_the_churn_warning_and_the_recall_are_notices_once(api: Api) -> None:
    programs.save(store(), "demo", program("demo"))  # warning: a coupon and 2x for 14 days; recall: a coupon
    members.enrol(store(), "demo", Enrol(member_id="m1"), T0)
    warned_at = datetime(2026, 2, 6, 4, tzinfo=UTC)  # 32 days idle
    assert sweep("churn", warned_at) == 1
    [offer] = of(api, "m1", "churn_offer")
    assert offer["text"] == "We miss you: you got 1 coupon and 2x points until 2026-02-20"
    assert offer["ref"] == "churn_warning:2026-01-05" and len(offer["coupon_ids"]) == 1
    assert offer["active_until"].startswith("2026-02-20T04:00:00")
    assert notices(api, "m1")[0] == offer
    assert sweep("churn", warned_at) == 0 and len(of(api, "m1", "churn_offer")) == 1
    recalled_at = datetime(2026, 4, 6, 4, tzinfo=UTC)  # 91 days idle
    assert sweep("churn", recalled_at) == 1
    [recall] = of(api, "m1", "recall_offer")
    assert recall["text"] == "Come back: you got 1 coupon" and recall["ref"] == "recall:2026-01-05"
    assert [n["kind"] for n in notices(api, "m1")][:2] == ["recall_offer", "churn_offer"]  # newest first
    assert sweep("churn", recalled_at) == 0 and len(of(api, "m1", "recall_offer")) == 1


def test_a_churn_warning_with_only_a_multiplier_says_it_and_a_bare_recall_says_nothing(api: Api) -> None:
    doc = program("demo")
    doc["lifecycle"]["churn_warning"]["coupons"] = []
    doc["lifecycle"]["recall"]["coupons"] = []  # the member goes dormant: nothing is given
    programs.save(store(), "demo", doc)
    members.enrol(store(), "demo", Enrol(member_id="m1"), T0)
    sweep("churn", datetime(2026, 2, 6, 4, tzinfo=UTC))
    assert [n["text"] for n in of(api, "m1", "churn_offer")] == ["We miss you: 2x points until 2026-02-20"]
    sweep("churn", datetime(2026, 4, 6, 4, tzinfo=UTC))
    assert of(api, "m1", "recall_offer") == []


def test_both_sides_of_a_referral_get_a_notice_once(api: Api, demo: str) -> None:
    with_referral(api)
    enrol(api, "alice")
    enrol(api, "bob", referral_code=code_of(api, "alice"), fingerprint=secrets.token_hex(32))
    event = referred_order(api, "bob", "o2", 5000)
    [mine] = of(api, "bob", "referral_reward")
    assert (mine["reason"], mine["points"], mine["ref"]) == ("referee", 150, "referral:bob")
    assert mine["text"] == "Thanks for joining through a friend: you got 150 points"
    assert rewards(api, event) == {"answered": 1}
    assert rewards(api, event) == {"answered": 1}  # redelivered
    [theirs] = of(api, "alice", "referral_reward")
    assert (theirs["reason"], theirs["points"], len(theirs["coupon_ids"])) == ("referrer", 300, 1)
    assert theirs["text"] == "Thanks for referring a friend: you got 300 points and 1 coupon"
    assert notices(api, "alice")[0] == theirs


def test_a_referral_on_enrolment_notices_the_referee_in_its_enrolment(api: Api, demo: str) -> None:
    doc = program("demo")
    doc["wallets"] = {"stamps": {"name": "Coffee stamps"}}
    referee = {"points": 20, "wallet": {"id": "stamps", "amount": 3}}
    doc["referral"] = {**REFERRAL, "on": "enrolment", "referee": referee}
    for name in ("min_order_minor", "within_days"):
        doc["referral"].pop(name)
    assert api.call("programs", "PUT", P, doc)[0] == 200
    enrol(api, "alice")
    assert enrol(api, "bob", referral_code=code_of(api, "alice"))[0] == 201
    [mine] = of(api, "bob", "referral_reward")
    assert mine["wallets"] == {"stamps": 3}
    assert mine["text"] == "Thanks for joining through a friend: you got 20 points and 3 Coffee stamps"


def test_a_stamp_campaigns_notice_says_its_stamps(api: Api) -> None:
    doc = program("stamps")
    doc["campaigns"][0]["public"] = {"title": "Stamp card"}
    assert api.call("programs", "PUT", "/programs/cafe", doc)[0] == 200
    assert api.call("enrol", "POST", "/programs/cafe/members", {"member_id": "m1"})[0] == 201
    lattes = {"sku": "latte", "category": "drinks", "amount_minor": 3000, "quantity": 2}
    body = {"order_id": "o1", "amount_minor": 3000, "items": [lattes]}
    assert api.call("earn", "POST", "/programs/cafe/members/m1/purchases", body)[0] == 201
    [applied] = [n for n in notices(api, "m1", "cafe") if n["kind"] == "campaign_applied"]
    assert applied["wallets"] == {"stamps": 2} and applied["text"] == "Stamp card: you got 2 Coffee stamps"
