"""What a member may do by itself (issue 27 items 4-6): the rules and the keys they rely on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyalty.errors import Forbidden, ValidationFailed
from loyalty.member import Profile
from loyalty.program import Program
from loyalty.rules import earning, lifecycle
from loyalty.store.keys import former_key, ref_key
from tests.support import program

DEMO = Program.model_validate(program("demo"))
AT = datetime(2026, 3, 10, 4, tzinfo=UTC)


def test_only_self_report_types_are_a_members_to_report() -> None:
    earning.check_self_report(DEMO, "check_in")
    with pytest.raises(Forbidden) as refused:
        earning.check_self_report(DEMO, "share")
    assert [d["field"] for d in refused.value.details] == ["type"]
    earning.check_self_report(DEMO, "dance")  # unknown: activity_points says so (422)
    with pytest.raises(ValidationFailed):
        earning.activity_points(DEMO, Profile(program_id="p", member_id="m", enrolled_at=AT), "dance", AT.date())


def test_self_enrolment_is_on_unless_the_program_says_no() -> None:
    lifecycle.check_self_enrolment(DEMO)
    closed = Program.model_validate({**program("demo"), "enrolment": {"self_service": False}})
    with pytest.raises(Forbidden):
        lifecycle.check_self_enrolment(closed)


def test_a_returning_member_gets_no_first_order_bonus() -> None:
    new = Profile(program_id="p", member_id="m", enrolled_at=AT)
    assert earning.first_order_bonus(DEMO, new, AT + timedelta(days=1), amount_minor=1000) == 200
    returning = new.model_copy(update={"returning": True})
    assert earning.first_order_bonus(DEMO, returning, AT + timedelta(days=1), amount_minor=1000) == 0


def test_a_members_own_ids_are_apart_from_the_servers_and_each_others() -> None:
    keys = {ref_key("p", "activity", "x")["pk"], ref_key("p", "activity", "x", "alice")["pk"]}
    keys |= {ref_key("p", "activity", "x", "bob")["pk"], ref_key("p", "activity", "ME")["pk"]}
    assert len(keys) == 4


def test_the_former_marker_holds_a_keyed_hash_not_the_id() -> None:
    key_a, key_b = "11" * 32, "22" * 32
    marker = former_key("p", "alice", key_a)
    assert "alice" not in marker["pk"] and marker == former_key("p", "alice", key_a)
    assert marker != former_key("p", "alice", key_b) and marker != former_key("p", "bob", key_a)
