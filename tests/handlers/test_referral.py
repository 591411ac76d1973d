"""Referral through the real handlers (moto): the member's code, and enrolment's referral fields."""

from __future__ import annotations

import secrets

from loyalty.rules import referral
from tests.handlers.conftest import Api
from tests.support import Context, load_function, program

P = "/programs/demo"


def enrol(api: Api, member: str, **fields: str) -> tuple[int, dict]:
    return api.call("enrol", "POST", f"{P}/members", {"member_id": member, **fields})


def code_of(api: Api, member: str) -> str:
    status, body = api.call("enrol", "GET", f"{P}/members/{member}/referral")
    assert status == 200, body
    return body["code"]


def test_a_members_code_is_stable_the_same_for_both_families_and_unknown_members_are_404(api: Api, demo: str) -> None:
    assert enrol(api, "alice")[0] == 201
    code = code_of(api, "alice")
    assert referral.CODE.match(code) and code_of(api, "alice") == code
    status, body = api.call("enrol", "GET", f"{P}/me/referral", sub="alice")
    assert (status, body) == (200, {"code": code})
    assert api.call("enrol", "GET", f"{P}/me/referral")[0] == 401
    status, body = api.call("enrol", "GET", f"{P}/members/nobody/referral")
    assert status == 404 and body["error"]["details"][0]["field"] == "member_id"
    assert enrol(api, "bob")[0] == 201 and code_of(api, "bob") != code


def test_enrolment_with_a_code_and_a_fingerprint(api: Api, demo: str) -> None:
    enrol(api, "alice")
    code = code_of(api, "alice")
    typed = f"{code[:5].lower()}-{code[5:]}"
    status, _ = enrol(api, "bob", referral_code=typed, fingerprint=secrets.token_hex(32))
    assert status == 201
    status, _ = api.call("enrol", "POST", f"{P}/me", {"referral_code": code}, sub="carol")
    assert status == 201


def test_bad_referral_fields_are_422s_naming_them(api: Api, demo: str) -> None:
    enrol(api, "alice")
    code = code_of(api, "alice")
    never_read = referral.code("00" * 32, "zed")
    for fields, field in (
        ({"referral_code": never_read}, "referral_code"),
        ({"referral_code": "not a code"}, "referral_code"),
        ({"fingerprint": "+8613800138000"}, "fingerprint"),
        ({"fingerprint": "ab" * 8}, "fingerprint"),
    ):
        status, body = enrol(api, "bob", **fields)
        assert status == 422 and body["error"]["details"][0]["field"] == field, (fields, body)
    status, body = enrol(api, "alice", referral_code=code)  # one's own code
    assert status == 422 and body["error"]["details"][0]["field"] == "referral_code"
    assert enrol(api, "bob")[0] == 201  # nothing of the refusals was written


# ---- rewards: the referee's write, then the referrer's from the stream ------------------------------

REFERRAL = {
    "on": "first_order",
    "min_order_minor": 3000,
    "within_days": 30,
    "referrer": {"points": 300, "coupons": ["welcome-10"]},
    "referee": {"points": 150},
    "per_referrer": {"count": 2, "per": "month"},
    "max_per_fingerprint": 1,
}


def with_referral(api: Api, **changes: object) -> None:
    doc = program("demo")
    doc["referral"] = {**REFERRAL, **changes}
    status, body = api.call("programs", "PUT", P, doc)
    assert status == 200, body


def profile_item(api: Api, member: str) -> dict:
    key = {"pk": {"S": f"MEMBER#demo#{member}"}, "sk": {"S": "PROFILE"}}
    return api.client.get_item(TableName="LoyaltyTable", Key=key, ConsistentRead=True)["Item"]


def stream(old: dict, new: dict, n: int = 1) -> dict:
    """The profile change as the table's stream delivers it to ReferralRewardsFunction."""
    images = {"Keys": {"pk": new["pk"], "sk": new["sk"]}, "NewImage": new, "OldImage": old}
    record = {"eventID": f"e-{n}", "eventName": "MODIFY", "dynamodb": {**images, "ApproximateCreationDateTime": 1.8e9}}
    return {"Records": [record]}


def buy(api: Api, member: str, order: str, amount: int) -> dict:
    status, body = api.call(
        "earn", "POST", f"{P}/members/{member}/purchases", {"order_id": order, "amount_minor": amount}
    )
    assert status == 201, body
    return body


def referred_order(api: Api, referee: str, order: str, amount: int) -> dict:
    """A referee's order, and what the stream hands the referrer function for it."""
    before = profile_item(api, referee)
    buy(api, referee, order, amount)
    return stream(before, profile_item(api, referee))


def rewards(api: Api, event: dict) -> dict:
    return load_function("referral_rewards").handler(event, Context())


def ledger_refs(api: Api, member: str) -> list[tuple[str, int]]:
    entries = api.call("members", "GET", f"{P}/members/{member}/ledger")[1]["entries"]
    return [(e["ref"], e["points"]) for e in entries if e["ref"] and e["ref"].startswith("referral:")]


def test_a_first_qualifying_order_rewards_both_sides_once(api: Api, demo: str) -> None:
    with_referral(api)
    enrol(api, "alice")
    enrol(api, "bob", referral_code=code_of(api, "alice"), fingerprint=secrets.token_hex(32))
    small = referred_order(api, "bob", "o1", 1000)  # too small: the chance stays open
    assert rewards(api, small) == {"answered": 0}
    assert ledger_refs(api, "bob") == []
    event = referred_order(api, "bob", "o2", 5000)
    assert ledger_refs(api, "bob") == [("referral:bob", 150)]
    assert rewards(api, event) == {"answered": 1}
    assert rewards(api, event) == {"answered": 1}  # redelivered: answered from its reference, once
    assert ledger_refs(api, "alice") == [("referral:bob", 300)]
    coupons = api.call("members", "GET", f"{P}/members/alice/coupons")[1]["coupons"]
    assert [c["source"] for c in coupons].count("referral:bob") == 1
    assert referred_order(api, "bob", "o3", 9000)["Records"][0]["dynamodb"]["OldImage"]["referred"]["M"]["status"] == {
        "S": "converted"
    }
    assert ledger_refs(api, "bob") == [("referral:bob", 150)]  # one reward per referee, ever


def test_a_shared_fingerprint_and_a_fingerprint_past_its_maximum_are_refused(api: Api, demo: str) -> None:
    with_referral(api)
    mine, shared = secrets.token_hex(32), secrets.token_hex(32)
    enrol(api, "alice", fingerprint=mine)
    code = code_of(api, "alice")
    enrol(api, "bob", referral_code=code, fingerprint=mine)  # alice's own device
    enrol(api, "carol", referral_code=code, fingerprint=shared)
    enrol(api, "dave", referral_code=code, fingerprint=shared.upper())  # the same hash
    for member in ("bob", "carol", "dave"):
        rewards(api, referred_order(api, member, f"o-{member}", 5000))
    assert ledger_refs(api, "bob") == [] and ledger_refs(api, "dave") == []
    assert ledger_refs(api, "carol") == [("referral:carol", 150)]
    assert ledger_refs(api, "alice") == [("referral:carol", 300)]
    reasons = {m: profile_item(api, m)["referred"]["M"] for m in ("bob", "dave")}
    assert reasons["bob"]["reason"] == {"S": "shared_fingerprint"}
    assert reasons["dave"]["reason"] == {"S": "max_per_fingerprint"}


def test_the_referrers_side_refuses_past_per_referrer_and_when_blocked(api: Api, demo: str) -> None:
    with_referral(api, per_referrer={"count": 1, "per": "month"})
    enrol(api, "alice")
    code = code_of(api, "alice")
    enrol(api, "bob", referral_code=code)
    enrol(api, "carol", referral_code=code)
    assert rewards(api, referred_order(api, "bob", "o1", 5000)) == {"answered": 1}
    assert rewards(api, referred_order(api, "carol", "o2", 5000)) == {"answered": 1}
    assert ledger_refs(api, "alice") == [("referral:bob", 300)]
    assert ledger_refs(api, "carol") == [("referral:carol", 150)]  # the referee's side is its own
    ref = api.client.get_item(
        TableName="LoyaltyTable", Key={"pk": {"S": "REF#demo#referral#carol"}, "sk": {"S": "REF"}}
    )["Item"]
    assert ref["referral_reason"] == {"S": "per_referrer"}


def test_a_blocked_referrer_gets_nothing_and_a_referral_converted_campaign_reads_the_facts(api: Api, demo: str) -> None:
    doc = program("demo")
    doc["referral"] = REFERRAL
    doc["campaigns"] = [
        {
            "id": "third-friend",
            "name": "the third friend pays",
            "trigger": "referral_converted",
            "when": "member.referrals == 2 && referral.on == 'first_order' && referral.referee_id != ''",
            "effects": [{"points": 1000}],
        }
    ]
    assert api.call("programs", "PUT", P, doc)[0] == 200
    enrol(api, "alice")
    enrol(api, "eve")
    code, evil = code_of(api, "alice"), code_of(api, "eve")
    for member in ("bob", "carol"):
        enrol(api, member, referral_code=code)
        rewards(api, referred_order(api, member, f"o-{member}", 5000))
    assert sum(p for _, p in ledger_refs(api, "alice")) == 600 + 1000  # the campaign on the second
    blocked = {"M": {"at": {"S": "2026-12-01T00:00:00+00:00"}, "reason": {"S": "fraud"}}}
    api.client.update_item(
        TableName="LoyaltyTable",
        Key={"pk": {"S": "MEMBER#demo#eve"}, "sk": {"S": "PROFILE"}},
        UpdateExpression="SET blocked = :b",
        ExpressionAttributeValues={":b": blocked},
    )
    enrol(api, "mallory", referral_code=evil)
    rewards(api, referred_order(api, "mallory", "o-m", 5000))
    assert ledger_refs(api, "eve") == []


def test_the_referral_figures_route_answers_from_the_counters(api: Api, demo: str) -> None:
    enrol(api, "alice")
    code = code_of(api, "alice")
    assert enrol(api, "alice", referral_code=code)[0] == 422  # self: refused, and counted
    status, body = api.call("enrol", "GET", f"{P}/referrals")
    assert status == 200, body
    assert body["refused"] == {"self": 1} and body["enrolled"] == 0 and body["top_referrers"] == []
    assert body["rewards"] == {"points": 0, "coupons": 0}
    status, body = api.call("enrol", "GET", f"{P}/referrals", query={"from": "2026-12-10", "to": "2026-12-01"})
    assert status == 422 and body["error"]["details"][0]["field"] == "from"
    assert api.call("enrol", "GET", "/programs/nope/referrals")[0] == 404


def held(api: Api, member: str) -> list[dict]:
    return api.call("members", "GET", f"{P}/members/{member}")[1]["points"]["pending"]


def test_a_refund_inside_the_window_takes_both_sides_pending_rewards_back(api: Api, demo: str) -> None:
    doc = program("demo")
    doc["points"]["pending_days"] = 7
    doc["referral"] = REFERRAL
    assert api.call("programs", "PUT", P, doc)[0] == 200
    enrol(api, "alice")
    enrol(api, "bob", referral_code=code_of(api, "alice"))
    assert rewards(api, referred_order(api, "bob", "o1", 5000)) == {"answered": 1}
    assert [(p["ref"], p["points"]) for p in held(api, "alice")] == [("referral:bob", 300)]
    assert ("referral:bob", 150) in [(p["ref"], p["points"]) for p in held(api, "bob")]
    before = profile_item(api, "bob")
    refund = {"refund_id": "r1", "order_id": "o1", "amount_minor": 1000}
    assert api.call("earn", "POST", f"{P}/members/bob/refunds", refund)[0] == 201
    event = stream(before, profile_item(api, "bob"), 2)
    assert event["Records"][0]["dynamodb"]["NewImage"]["referred"]["M"]["status"] == {"S": "cancelled"}
    assert all(p["ref"] != "referral:bob" for p in held(api, "bob"))
    assert rewards(api, event) == {"answered": 1}
    assert rewards(api, event) == {"answered": 1}  # redelivered: once
    assert held(api, "alice") == [] and ledger_refs(api, "alice") == []


TWO_SIDED = {
    "on": "first_order",
    "referrer": {"points": 300, "coupons": ["welcome-10"]},
    "referee": {"points": 150, "coupons": ["welcome-10"]},
    "per_referrer": {"count": 10, "per": "month"},
}


def with_cancellable_referral(api: Api, **changes: object) -> None:
    """The tester's program: points held 7 days, two-sided rewards with coupons, and a
    `referral_converted` campaign giving the referrer points and a tag."""
    doc = program("demo")
    doc["points"]["pending_days"] = 7
    doc["referral"] = {**TWO_SIDED, **changes}
    doc["campaigns"] = [
        {
            "id": "friend-bonus",
            "name": "a friend joined",
            "trigger": "referral_converted",
            "effects": [{"points": 500}, {"tag": "ambassador"}],
        }
    ]
    assert api.call("programs", "PUT", P, doc)[0] == 200


def referral_coupons(api: Api, member: str, referee: str) -> list[dict]:
    coupons = api.call("members", "GET", f"{P}/members/{member}/coupons")[1]["coupons"]
    return [c for c in coupons if c["source"].endswith(f"referral:{referee}")]


def refund_of(api: Api, member: str, refund_id: str, order: str) -> tuple[dict, dict]:
    """A refund of 1000 of `order`: its answer and the stream's record of the referee's change."""
    before = profile_item(api, member)
    refund = {"refund_id": refund_id, "order_id": order, "amount_minor": 1000}
    status, body = api.call("earn", "POST", f"{P}/members/{member}/refunds", refund)
    assert status == 201, body
    return body, stream(before, profile_item(api, member), 2)


def test_a_cancelled_referral_takes_back_both_sides_coupons_and_the_campaigns_points(api: Api, demo: str) -> None:
    with_cancellable_referral(api)
    enrol(api, "alice")
    enrol(api, "bob", referral_code=code_of(api, "alice"))
    assert rewards(api, referred_order(api, "bob", "o1", 5000)) == {"answered": 1}
    assert sum(p["points"] for p in held(api, "alice")) == 300 + 500  # the campaign's held like the reward
    (bobs,) = referral_coupons(api, "bob", "bob")
    assert len(referral_coupons(api, "alice", "bob")) == 1
    pending_before = sum(p["points"] for p in held(api, "bob"))
    body, event = refund_of(api, "bob", "r1", "o1")
    assert body["pending_cancelled"] == pending_before - sum(p["points"] for p in held(api, "bob"))
    assert body["pending_cancelled"] > 150  # the order's share and the referral's 150
    assert bobs["coupon_id"] in body["coupons_revoked"]
    assert [c["status"] for c in referral_coupons(api, "bob", "bob")] == ["expired"]
    assert rewards(api, event) == {"answered": 1}
    assert rewards(api, event) == {"answered": 1}  # redelivered: once
    assert held(api, "alice") == [] and ledger_refs(api, "alice") == []
    assert [c["status"] for c in referral_coupons(api, "alice", "bob")] == ["expired"]
    alice = api.call("members", "GET", f"{P}/members/alice")[1]
    assert "ambassador" in alice["tags"]  # tags stay (README)
    assert profile_item(api, "alice")["referrals"] == {"N": "0"}


def test_a_used_referral_coupon_stays_used_when_the_referral_is_cancelled(api: Api, demo: str) -> None:
    with_cancellable_referral(api)
    enrol(api, "alice")
    enrol(api, "bob", referral_code=code_of(api, "alice"))
    rewards(api, referred_order(api, "bob", "o1", 5000))
    (coupon,) = referral_coupons(api, "bob", "bob")
    use = {"order_id": "o2", "order_amount_minor": 6000}
    status, used = api.call("redeem", "POST", f"{P}/members/bob/coupons/{coupon['coupon_id']}/use", use)
    assert status == 200, used
    body, _ = refund_of(api, "bob", "r1", "o1")
    assert coupon["coupon_id"] not in body["coupons_revoked"]
    assert coupon["coupon_id"] in body["coupons_unrecovered"]
    assert [c["status"] for c in referral_coupons(api, "bob", "bob")] == ["used"]


def test_a_cancelled_referral_gives_back_per_referrer_and_the_fingerprints_count(api: Api, demo: str) -> None:
    with_cancellable_referral(api, per_referrer={"count": 1, "per": "month"}, max_per_fingerprint=2)
    shared = secrets.token_hex(32)
    enrol(api, "alice")
    code = code_of(api, "alice")
    for member in ("amy", "ben", "cat"):
        enrol(api, member, referral_code=code, fingerprint=shared)
    assert rewards(api, referred_order(api, "amy", "o-amy", 5000)) == {"answered": 1}
    _, event = refund_of(api, "amy", "r1", "o-amy")
    assert rewards(api, event) == {"answered": 1}
    _, again = refund_of(api, "amy", "r2", "o-amy")  # a second refund of the order gives nothing back twice
    assert (
        again["Records"][0]["dynamodb"]["OldImage"]["referred"]
        == again["Records"][0]["dynamodb"]["NewImage"]["referred"]
    )
    budget = {"pk": {"S": f"BUDGET#demo#fingerprint:{shared}:all"}, "sk": {"S": "BUDGET"}}
    assert api.client.get_item(TableName="LoyaltyTable", Key=budget)["Item"]["taken"] == {"N": "0"}
    assert rewards(api, referred_order(api, "ben", "o-ben", 5000)) == {"answered": 1}
    assert ledger_refs(api, "alice") == [] and held(api, "alice")[0]["ref"] == "referral:ben"
    rewards(api, referred_order(api, "cat", "o-cat", 5000))
    assert profile_item(api, "cat")["referred"]["M"]["status"] == {"S": "converted"}  # amy's take given back


def test_the_figures_count_a_cancelled_referral_net_of_what_it_took_back(api: Api, demo: str) -> None:
    from tests.handlers.test_checkout_figures import Stream  # moto's stream of the table

    with_cancellable_referral(api)
    stream = Stream()
    enrol(api, "alice")
    enrol(api, "bob", referral_code=code_of(api, "alice"))
    rewards(api, referred_order(api, "bob", "o1", 5000))
    _, event = refund_of(api, "bob", "r1", "o1")
    rewards(api, event)
    load_function("count_health").handler({"Records": stream.new()}, Context())
    body = api.call("enrol", "GET", f"{P}/referrals")[1]
    assert (body["converted"], body["cancelled"]) == (1, 1)
    assert body["rewards"] == {"points": 0, "coupons": 0}  # both sides' coupons revoked, points never credited
    campaigns = api.call("programs", "GET", f"{P}/campaigns")[1]["campaigns"]
    (bonus,) = [c for c in campaigns if c["campaign_id"] == "friend-bonus"]
    assert (bonus["points_given"], bonus["points_reversed"]) == (500, 500)
