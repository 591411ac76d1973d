"""Blocked members and the daily abuse limits (issue 32, items 3 and 4): the rules, the due days, the
Member Flagged event and the health counter."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty import events
from loyalty.errors import MemberBlocked
from loyalty.member import Profile
from loyalty.program import Program
from loyalty.records import StreamRecord
from loyalty.rules import abuse, due, health
from loyalty.rules.posting import Change
from tests.support import program

AT = datetime(2026, 3, 10, 4, tzinfo=UTC)  # 12:00 in Shanghai
DAY = "2026-03-10"


def limited(**limits: int) -> Program:
    return Program.model_validate({**program("demo"), "abuse": limits})


def member() -> Profile:
    return Profile(program_id="demo", member_id="m1", enrolled_at=AT - timedelta(days=30), buckets={"2027-03-31": 500})


def test_a_blocked_member_is_refused_and_due_for_nothing() -> None:
    change = Change.start(limited(), member(), AT)
    abuse.refuse_blocked(change.profile)
    assert any(due.days(change).values())
    assert abuse.block(change, "fraud") and not abuse.block(change, "again")
    assert change.profile.blocked is not None and change.profile.blocked.reason == "fraud"
    with pytest.raises(MemberBlocked) as refused:
        abuse.refuse_blocked(change.profile)
    assert refused.value.status == 409 and refused.value.code == "member_blocked"
    assert due.days(change) == dict.fromkeys(due.KINDS)
    assert abuse.unblock(change) and not abuse.unblock(change)
    assert any(due.days(change).values())


def test_orders_past_the_daily_count_earn_nothing_and_flag_once() -> None:
    prog = limited(max_orders_per_day=2)
    change = Change.start(prog, member(), AT)
    for _ in range(2):
        assert abuse.withheld(prog, change.profile, change.today) is None
        assert not abuse.count_order(change, 100, None)
    limit = abuse.withheld(prog, change.profile, change.today)
    assert limit == "max_orders_per_day"
    assert abuse.count_order(change, 0, limit)  # flagged
    assert not abuse.count_order(change, 0, limit)  # once a day
    assert [(f.kind, f.day) for f in change.profile.flags] == [("max_orders_per_day", DAY)]
    assert change.profile.abuse_day is not None and change.profile.abuse_day.orders == 4
    tomorrow = Change.start(prog, change.profile, AT + timedelta(days=1))
    assert abuse.withheld(prog, tomorrow.profile, tomorrow.today) is None  # a new day


def test_the_order_crossing_the_points_cap_earns_in_full_and_the_next_nothing() -> None:
    prog = limited(max_points_per_day=150)
    change = Change.start(prog, member(), AT)
    assert abuse.withheld(prog, change.profile, change.today) is None
    abuse.count_order(change, 100, None)
    assert abuse.withheld(prog, change.profile, change.today) is None
    abuse.count_order(change, 100, None)  # 200: past the cap, in full
    assert abuse.withheld(prog, change.profile, change.today) == "max_points_per_day"


def test_no_limits_count_nothing() -> None:
    prog = limited()
    change = Change.start(Program.model_validate(program("demo")), member(), AT)
    assert abuse.withheld(prog, change.profile, change.today) is None
    assert not abuse.count_order(change, 100, None) and change.profile.abuse_day is None


def flagged_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    prog = limited(max_orders_per_day=1)
    change = Change.start(prog, member(), AT)
    old = change.profile.model_dump(mode="json")
    abuse.count_order(change, 0, "max_orders_per_day")
    return change.profile.model_dump(mode="json"), old


def test_a_new_flag_is_a_member_flagged_event_and_a_flagged_member_on_its_day() -> None:
    new, old = flagged_pair()
    record = StreamRecord("member", "demo", "m1", new, old, "e1", AT)
    named = events._named(record)
    assert [(t, events.DETAILS[t].model_validate(f).model_dump()) for t, f, _ in named] == [
        ("Member Flagged", {"kind": "max_orders_per_day", "day": DAY})
    ]
    assert events._named(StreamRecord("member", "demo", "m1", new, new, "e2", AT)) == []  # nothing new
    out: dict[Any, Counter[str]] = {}
    health.deltas(record, limited(), AT, out)
    assert out[("demo", ("day", DAY))]["members_flagged"] == 1
    figures = health.figures(limited(), [{"members_flagged": 1}, {"members_flagged": 2}], [], {})
    assert figures["members_flagged"] == 3
