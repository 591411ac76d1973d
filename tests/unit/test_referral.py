"""Referral codes and the enrolment's referral fields (rules/referral.py)."""

from __future__ import annotations

import secrets

from loyalty.rules import referral

KEY = "00" * 32


def test_a_code_is_stable_short_and_free_of_look_alikes() -> None:
    first = referral.code(KEY, "alice")
    assert first == referral.code(KEY, "alice")
    assert len(first) <= 10 and not set(first) & set("0O1IL")
    assert referral.CODE.match(first)


def test_codes_differ_by_member_key_and_collision_counter() -> None:
    codes = {referral.code(KEY, f"m{i}") for i in range(2000)}
    assert len(codes) == 2000
    assert referral.code(KEY, "alice") != referral.code("11" * 32, "alice")
    assert referral.code(KEY, "alice", 1) != referral.code(KEY, "alice")


def test_a_code_as_typed_is_normalised_and_a_non_code_refused_without_lookup() -> None:
    code = referral.code(KEY, "alice")
    assert referral.normal_code(f"{code[:5].lower()}-{code[5:]}") == code
    assert referral.normal_code("ABCDEFGHI0") is None  # a 0
    assert referral.normal_code("SHORT") is None


def test_a_fingerprint_must_look_like_a_hash() -> None:
    digest = secrets.token_hex(32)
    assert referral.normal_fingerprint(digest.upper()) == digest
    assert referral.normal_fingerprint("+8613800138000") is None
    assert referral.normal_fingerprint("ab" * 8) is None  # 64 bits: too short to be a hash


# ---- the referral figures from the stream (rules/referral_report.py) ----------------------------------

from datetime import UTC, datetime  # noqa: E402

from loyalty.program import Program  # noqa: E402
from loyalty.records import StreamRecord  # noqa: E402
from loyalty.rules import health, referral_report  # noqa: E402
from tests.support import program  # noqa: E402

DAY = ("day", "2026-12-06")


def record(kind: str, new: dict | None, old: dict | None = None, member: str = "bob") -> StreamRecord:
    return StreamRecord(kind, "demo", member, new, old, "e1", datetime(2026, 12, 6, tzinfo=UTC))


def counted(*records: StreamRecord) -> dict:
    out: health.Deltas = {}
    doc = Program.model_validate(program("demo"))
    for r in records:
        health.deltas(r, doc, r.committed, out)
    return {period: dict(c) for (_, period), c in out.items() if period[0].startswith("referr")}


def test_a_referral_is_counted_enrolled_converted_rewarded_and_refused_by_reason() -> None:
    waiting = {"referred": {"by": "alice", "status": "waiting"}}
    converted = {"referred": {"by": "alice", "status": "converted"}}
    found = counted(
        record("member", {"enrolled_at": "2026-12-06T00:00:00Z", **waiting}),
        record("member", {"enrolled_at": "2026-12-06T00:00:00Z", **converted}, waiting),
        record("member", {"enrolled_at": "2026-12-06T00:00:00Z", **converted}, converted),  # no second time
        record("ledger", {"type": "bonus", "points": 150, "reason": "referral"}),
        record("coupon", {"source": "referral:bob", "status": "available"}),
        record("referral", {"referral_outcome": "refused", "referral_reason": "per_referrer"}),
        record("member", {"referred": {"by": "alice", "status": "refused", "reason": "shared_fingerprint"}}, waiting),
    )
    assert found[("referral_day", "2026-12-06")] == {
        "enrolled": 1,
        "converted": 1,
        "points": 150,
        "coupons": 1,
        "refused:per_referrer": 1,
        "refused:shared_fingerprint": 1,
    }
    assert found[("referrer_day", "2026-12-06#alice")] == {"converted": 1}


def test_the_figures_sum_the_days_and_rank_the_top_referrers() -> None:
    days = [{"enrolled": 3, "converted": 2, "points": 900, "refused:self": 1}, {"enrolled": 1, "coupons": 2}]
    referrers = [
        {"referrer": "b", "converted": 1},
        {"referrer": "a", "converted": 1},
        {"referrer": "b", "converted": 2},
    ]
    found = referral_report.figures(days, referrers)
    assert found == {
        "enrolled": 4,
        "converted": 2,
        "cancelled": 0,
        "rewards": {"points": 900, "coupons": 2},
        "refused": {"self": 1},
        "top_referrers": [{"member_id": "b", "converted": 3}, {"member_id": "a", "converted": 1}],
    }
    many = [{"referrer": f"m{i:02d}", "converted": i} for i in range(1, 30)]
    assert len(referral_report.figures([], many)["top_referrers"]) == referral_report.TOP


def test_the_top_referrers_leave_out_an_erased_one_and_a_former_members_days() -> None:
    referrers = [
        {"referrer": "gone", "day": "2026-03-10", "converted": 9},
        {"referrer": "back", "day": "2026-03-10", "converted": 4},  # its id's former member
        {"referrer": "back", "day": "2026-03-12", "converted": 1},
        {"referrer": "kept", "day": "2026-03-10", "converted": 2},
    ]
    since = {"back": "2026-03-12", "kept": "2026-03-01"}
    found = referral_report.figures([], referrers, since)["top_referrers"]
    assert found == [{"member_id": "kept", "converted": 2}, {"member_id": "back", "converted": 1}]
    many = referral_report.converted([{"referrer": f"m{i:02d}", "converted": 5} for i in range(10)])
    assert referral_report.settled(many, 4) and not referral_report.settled(many, 5)


def test_a_cancelled_referrals_revoked_coupons_leave_the_rewards() -> None:
    issued = {"source": "referral:bob", "status": "available", "valid_from": "2026-12-05T17:00:00Z"}
    revoked = {**issued, "revoked_at": "2026-12-07T01:00:00Z"}
    found = counted(
        record("coupon", issued),
        record("coupon", {"source": "referral:carol", "status": "available"}),
        record("coupon", revoked, issued),  # a cancellation revoked it
        record("coupon", revoked, revoked),  # counted once
        record("coupon", {**issued, "status": "used"}, issued),  # used: a reward still
        record("member", {"referred": {"by": "alice", "status": "cancelled"}}, {"referred": {"status": "converted"}}),
    )
    # Taken off the day it was issued (2026-12-06 in Shanghai), whatever day the cancellation is.
    assert found[("referral_day", "2026-12-06")] == {"coupons": 2 - 1, "cancelled": 1}


def test_the_referrer_function_is_delivered_conversions_and_cancellations() -> None:
    import json

    from local.template import load_template

    fn = load_template().resources["ReferralRewardsFunction"]["Properties"]
    (only,) = fn["Events"]["TableStream"]["Properties"]["FilterCriteria"]["Filters"]
    status = json.loads(only["Pattern"])["dynamodb"]["NewImage"]["referred"]["M"]["status"]["S"]
    assert sorted(status) == ["cancelled", "converted"]  # a cancellation filtered out took nothing back
