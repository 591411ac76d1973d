"""Notices of the grants made outside campaigns (rules/grant_notices.py) and their words (rules/notices.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from loyalty.member import Notice, Profile
from loyalty.program import Grant, Program
from loyalty.rules import grant_notices, notices
from loyalty.rules.posting import Change
from tests.support import program

NOW = datetime(2026, 5, 1, tzinfo=UTC)


def stamps() -> Program:
    doc = program("demo")
    doc["wallets"] = {"stamps": {"name": "Coffee stamps"}}
    return Program.model_validate(doc)


def change() -> Change:
    return Change.start(stamps(), Profile(program_id="p", member_id="m", enrolled_at=NOW), NOW)


def test_a_notice_says_only_what_its_own_grant_gave() -> None:
    c = change()
    c.grant(Grant(points=5), "bonus", NOW, "other", budget="x")  # before the mark: not this grant's
    since = grant_notices.mark(c)
    c.grant(Grant(points=40, coupons=["welcome-10"]), "bonus", NOW, "birthday:2026-05", budget="birthday")
    c.wallet_credit("stamps", 2, NOW, "birthday:2026-05", "bonus")
    grant_notices.notice(c, since, "birthday_gift", "birthday:2026-05")
    [n] = c.notices
    assert (n.notice_id, n.points, len(n.coupon_ids), n.wallets) == (
        "birthday_gift.birthday:2026-05",
        40,
        1,
        {"stamps": 2},
    )
    assert notices.text(stamps(), n) == "Happy birthday: you got 40 points, 1 coupon and 2 Coffee stamps"


def test_a_grant_that_gave_nothing_leaves_no_notice() -> None:
    c = change()
    c.exhausted = {"recall:2026-05"}  # an earlier attempt found the recall's budget spent
    since = grant_notices.mark(c)
    c.grant(Grant(coupons=["welcome-10"], budget=1), "bonus", NOW, "recall:2026-01-01", budget="recall")
    grant_notices.notice(c, since, "recall_offer", "recall:2026-01-01")
    assert c.coupons == [] and c.notices == []


def notice(**fields: object) -> Notice:
    return Notice.model_validate({"notice_id": "n", "at": NOW, **fields})


def test_the_new_kinds_in_words() -> None:
    p = stamps()
    assert notices.text(p, notice(kind="recall_offer", coupon_ids=["c"])) == "Come back: you got 1 coupon"
    referee = notice(kind="referral_reward", reason="referee", points=1)
    assert notices.text(p, referee) == "Thanks for joining through a friend: you got 1 point"
    referrer = notice(kind="referral_reward", reason="referrer", wallets={"stamps": 3})
    assert notices.text(p, referrer) == "Thanks for referring a friend: you got 3 Coffee stamps"
    until = datetime(2026, 5, 14, 16, tzinfo=UTC)  # May 15 in Shanghai
    boost = notice(kind="churn_offer", active_until=until)
    assert notices.text(p, boost) == "We miss you: 2x points until 2026-05-15"
    gone = notice(kind="campaign_applied", campaign_id="x", wallets={"gone": 1})  # a wallet dropped since
    assert notices.text(p, gone) == "A campaign: you got 1 gone"
