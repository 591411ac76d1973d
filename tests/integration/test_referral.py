"""Referral's money paths on DynamoDB Local: the referees' writes convert, the referrer's write
(usecases/referral.reward_referrer, what ReferralRewardsFunction makes of each stream record) rewards
exactly once per referee whatever the parallelism, the duplicates and the crashes; then the whole
chain through the local runtime, stream consumers included."""

from __future__ import annotations

import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from local.stack import Stack, put_program
from loyalty.schemas import Enrol, Purchase, Refund
from loyalty.store import Store
from loyalty.usecases import earning, erasure, members, programs, referral
from tests.integration.conftest import Client
from tests.integration.crashes import count_calls, crashed_then_retried
from tests.support import program

NOW = datetime(2026, 3, 10, 4, tzinfo=UTC)
BOB_ALICE = ("bob", "alice", NOW)  # the referee, the referrer, when: the referrer's write's arguments
REFERRAL = {
    "on": "first_order",
    "min_order_minor": 3000,
    "referrer": {"points": 300, "coupons": ["welcome-10"]},
    "referee": {"points": 150},
    "per_referrer": {"count": 100, "per": "month"},
}


def fresh(store: Store, **changes: Any) -> str:
    pid = f"r-{uuid.uuid4().hex[:10]}"
    doc = program("demo")
    doc["referral"] = {**REFERRAL, **changes}
    programs.save(store, pid, doc)
    members.enrol(store, pid, Enrol(member_id="alice"), NOW)
    return pid


def referee(store: Store, pid: str, mid: str) -> None:
    code = referral.code(store, pid, "alice").code
    members.enrol(store, pid, Enrol(member_id=mid, referral_code=code, fingerprint=secrets.token_hex(32)), NOW)


def order(store: Store, pid: str, mid: str, order_id: str, amount: int = 5000) -> None:
    earning.purchase(store, pid, mid, Purchase(order_id=order_id, amount_minor=amount), NOW)


def given(store: Store, pid: str, mid: str) -> list[str]:
    """The referral rewards the member's ledger holds, by referee."""
    entries, _ = store.ledger(pid, mid, 1000, None)
    return sorted(e.ref for e in entries if e.reason == "referral" and e.ref)


def referee_life(store: Store, pid: str, mid: str) -> None:
    """A referee's order sent twice (a retry), a second order, and the referrer's write for it made
    twice (a redelivered stream record), all racing the other referees'."""
    order(store, pid, mid, f"o-{mid}")
    order(store, pid, mid, f"o-{mid}")
    order(store, pid, mid, f"o2-{mid}")
    for _ in range(2):
        referral.reward_referrer(store, pid, mid, "alice", NOW)


@pytest.mark.parametrize(("per_referrer", "rewarded"), [(100, 20), (15, 15)])
def test_twenty_referees_in_parallel_reward_the_referrer_once_each_up_to_per_referrer(
    store: Store, per_referrer: int, rewarded: int
) -> None:
    pid = fresh(store, per_referrer={"count": per_referrer, "per": "month"})
    mids = [f"m{i:02d}" for i in range(20)]
    for mid in mids:
        referee(store, pid, mid)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda mid: referee_life(store, pid, mid), mids))
    assert len(given(store, pid, "alice")) == rewarded and len(set(given(store, pid, "alice"))) == rewarded
    assert all(given(store, pid, mid) == [f"referral:{mid}"] for mid in mids)
    alice = store.get_member(pid, "alice")
    assert alice is not None and alice.referrals == rewarded
    refs = [store.get_ref(pid, "referral", mid) for mid in mids]
    refused = [r for r in refs if r and r["referral_outcome"] == "refused"]
    assert len(refused) == 20 - rewarded and all(r["referral_reason"] == "per_referrer" for r in refused)


def alice_state(store: Store, pid: str) -> dict[str, Any]:
    profile = store.get_member(pid, "alice")
    assert profile is not None
    entries, _ = store.ledger(pid, "alice", 1000, None)
    return {
        "profile": profile.model_dump(mode="json", exclude={"program_id"}),
        "ledger": [e.model_dump(mode="json") for e in entries],
        "coupons": sorted(c.coupon_id for c in store.coupons(pid, "alice")),
    }


def test_a_crash_before_or_after_any_call_of_the_referrers_write_then_a_retry_is_one_clean_run(store: Store) -> None:
    def setup() -> str:
        pid = fresh(store)
        referee(store, pid, "bob")
        order(store, pid, "bob", "o1")
        return pid

    pid = setup()
    calls = count_calls(store, lambda: referral.reward_referrer(store, pid, "bob", "alice", NOW))
    expected = alice_state(store, pid)
    assert given(store, pid, "alice") == ["referral:bob"]
    retried = crashed_then_retried(store, len(calls), setup, lambda p: referral.reward_referrer(store, p, *BOB_ALICE))
    for other, where in retried:
        assert alice_state(store, other) == expected, f"{where} of {calls}"


# ---- the whole chain through the local runtime: HTTP, the stream, both consumers ---------------------


def wait_for(api: Client, path: str, done: Any) -> Any:
    deadline = time.monotonic() + 60
    while True:
        status, body = api.call("GET", path)
        assert status == 200, body
        if done(body) or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


def test_referrals_through_the_runtime_reward_refuse_and_are_counted(stack: Stack, api: Client) -> None:
    pid = f"p-{uuid.uuid4().hex[:10]}"
    doc = program("demo")
    doc["referral"] = {**REFERRAL, "max_per_fingerprint": 1}
    assert put_program(api.base, pid, doc)[0] == 200
    m = f"/programs/{pid}/members"
    own, shared = secrets.token_hex(32), secrets.token_hex(32)
    assert api.call("POST", m, {"member_id": "alice", "fingerprint": own})[0] == 201
    code = api.call("GET", f"{m}/alice/referral")[1]["code"]
    assert api.call("POST", m, {"member_id": "alice", "referral_code": code})[0] == 422  # self
    for mid, fp in (("bob", shared), ("carol", own), ("dave", shared)):
        assert api.call("POST", m, {"member_id": mid, "referral_code": code, "fingerprint": fp})[0] == 201
        assert api.call("POST", f"{m}/{mid}/purchases", {"order_id": f"o-{mid}", "amount_minor": 5000})[0] == 201

    def done(ledger: dict[str, Any]) -> bool:
        return any(e["ref"] == "referral:bob" for e in ledger["entries"])

    wait_for(api, f"{m}/alice/ledger", done)
    figures = wait_for(api, f"/programs/{pid}/referrals", lambda f: f["converted"] and f["rewards"]["coupons"])
    assert figures["enrolled"] == 3 and figures["converted"] == 1
    assert figures["refused"] == {"self": 1, "shared_fingerprint": 1, "max_per_fingerprint": 1}
    assert figures["rewards"] == {"points": 450, "coupons": 1}
    assert figures["top_referrers"] == [{"member_id": "alice", "converted": 1}]
    ledger = api.call("GET", f"{m}/alice/ledger")[1]["entries"]
    assert [e["ref"] for e in ledger if e["ref"] and e["ref"].startswith("referral:")] == ["referral:bob"]


def test_a_refund_inside_the_window_takes_both_sides_pending_rewards_back(store: Store) -> None:
    pid = f"r-{uuid.uuid4().hex[:10]}"
    doc = program("demo")
    doc["points"]["pending_days"] = 7
    doc["referral"] = REFERRAL
    programs.save(store, pid, doc)
    members.enrol(store, pid, Enrol(member_id="alice"), NOW)
    referee(store, pid, "bob")
    order(store, pid, "bob", "o1")
    referral.reward_referrer(store, pid, "bob", "alice", NOW, held_from=NOW)

    def held(mid: str) -> list[str]:
        profile = store.get_member(pid, mid)
        assert profile is not None
        return [p.ref for p in profile.pending if p.ref.startswith("referral:")]

    assert held("alice") == ["referral:bob"] and held("bob") == ["referral:bob"]
    earning.refund(store, pid, "bob", Refund(refund_id="r1", order_id="o1", amount_minor=5000), NOW)
    bob = store.get_member(pid, "bob")
    assert bob is not None and bob.referred is not None and bob.referred.status == "cancelled"
    assert held("bob") == []
    for _ in range(2):  # redelivered: once
        referral.cancel_referrer(store, pid, "bob", "alice", NOW)
    alice = store.get_member(pid, "alice")
    assert held("alice") == [] and alice is not None and alice.referrals == 0
    assert given(store, pid, "alice") == [] and given(store, pid, "bob") == []
    assert cancelled_state(store, pid)["coupons"] == [True]  # the referrer's coupon revoked


def taken(store: Store, pid: str, site: str) -> int:
    """What a budget-like count holds taken (0 where it has no item)."""
    got = store.client.get_item(
        TableName="LoyaltyTable", Key={"pk": {"S": f"BUDGET#{pid}#{site}"}, "sk": {"S": "BUDGET"}}
    )
    return int(got.get("Item", {}).get("taken", {}).get("N", 0))


def cancellable(store: Store) -> str:
    """bob converted alice's referral (both sides given coupons, a budget and a fingerprint's count
    taken), then refunded his order inside the window: the referrer's cancel write is due."""
    pid = f"r-{uuid.uuid4().hex[:10]}"
    doc = program("demo")
    doc["points"]["pending_days"] = 7
    two_sided = {"referee": {"points": 150, "coupons": ["welcome-10"]}, "max_per_fingerprint": 2, "budget": 10}
    doc["referral"] = {**REFERRAL, **two_sided}
    programs.save(store, pid, doc)
    members.enrol(store, pid, Enrol(member_id="alice"), NOW)
    referee(store, pid, "bob")
    order(store, pid, "bob", "o1")
    referral.reward_referrer(store, pid, "bob", "alice", NOW, held_from=NOW)
    done = earning.refund(store, pid, "bob", Refund(refund_id="r1", order_id="o1", amount_minor=1000), NOW)
    bob = store.get_member(pid, "bob")
    assert bob is not None and bob.fingerprint is not None
    assert len(done.result.coupons_revoked) == 1 and done.result.pending_cancelled > 150
    assert taken(store, pid, f"fingerprint:{bob.fingerprint}:all") == 0  # given back in the refund's write
    return pid


def cancelled_state(store: Store, pid: str) -> dict[str, Any]:
    """alice_state, with whether each referral coupon is revoked and the program's referrer budget taken."""
    return {
        **alice_state(store, pid),
        "coupons": [c.revoked_at is not None for c in store.coupons(pid, "alice") if c.source == "referral:bob"],
        "budget": taken(store, pid, "referral:all"),
    }


def test_a_crash_before_or_after_any_call_of_the_referrers_cancel_write_then_a_retry_is_one_clean_run(
    store: Store,
) -> None:
    pid = cancellable(store)
    calls = count_calls(store, lambda: referral.cancel_referrer(store, pid, "bob", "alice", NOW))
    expected = cancelled_state(store, pid)
    assert expected["coupons"] == [True] and expected["budget"] == 0 and expected["profile"]["referrals"] == 0
    assert expected["profile"]["pending"] == [] and expected["profile"]["referral_periods"] == {"2026-03": 0}

    def cancel(p: str) -> int:
        return referral.cancel_referrer(store, p, *BOB_ALICE)

    for other, where in crashed_then_retried(store, len(calls), lambda: cancellable(store), cancel):
        assert cancelled_state(store, other) == expected, f"{where} of {calls}"


# ---- an erased referrer: its code item goes, and the report no longer names it -------------------


def test_an_erased_referrer_loses_its_code_and_leaves_the_top_referrers(store: Store) -> None:
    pid = fresh(store)
    members.enrol(store, pid, Enrol(member_id="zed"), NOW)
    code = referral.code(store, pid, "alice").code
    assert store.code_owner(pid, code) == "alice"
    # The per-referrer counters the stream keeps (the health counter is not running here).
    counted = {"2026-03-10#alice": 2, "2026-03-11#alice": 1, "2026-03-10#zed": 1, "2026-03-13#alice": 2}
    store.add_stats({(pid, ("referrer_day", k)): {"converted": n} for k, n in counted.items()}, [], 0)

    def top() -> list[dict[str, Any]]:
        late = datetime(2026, 3, 31, 12, tzinfo=UTC)
        figures = referral.report(store, pid, datetime(2026, 3, 1).date(), late.date(), late)
        return figures.model_dump()["top_referrers"]

    assert top() == [{"member_id": "alice", "converted": 5}, {"member_id": "zed", "converted": 1}]
    erasure.erase(store, pid, "alice", NOW)
    assert store.code_owner(pid, code) is None  # the code names no one: an enrolment naming it is a 422
    assert top() == [{"member_id": "zed", "converted": 1}]
    # The same id enrolled again is a new member: only what it converted since its enrolment day counts.
    members.enrol(store, pid, Enrol(member_id="alice"), datetime(2026, 3, 12, 12, tzinfo=UTC))
    assert top() == [{"member_id": "alice", "converted": 2}, {"member_id": "zed", "converted": 1}]
