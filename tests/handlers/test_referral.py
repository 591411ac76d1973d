"""Referral through the real handlers (moto): the member's code, and enrolment's referral fields."""

from __future__ import annotations

import secrets

from loyalty.rules import referral
from tests.handlers.conftest import Api

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
