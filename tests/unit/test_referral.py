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
