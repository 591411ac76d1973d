"""Member tags as a pure rule (rules/tags.apply) and the tags request body (schemas.TagsChange)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from loyalty.errors import ValidationFailed
from loyalty.member import Profile
from loyalty.program import MAX_TAGS, Program
from loyalty.rules import tags
from loyalty.rules.posting import Change
from loyalty.schemas import TagsChange
from tests.support import program

DEMO = Program.model_validate(program("demo"))
AT = datetime(2026, 3, 10, 4, tzinfo=UTC)


def change(held: list[str] | None = None) -> Change:
    profile = Profile(program_id="p", member_id="m", enrolled_at=AT - timedelta(days=1), tags=held or [])
    return Change.start(DEMO, profile, AT)


def test_tags_are_kept_sorted_and_unique() -> None:
    c = change(["tea"])
    assert tags.apply(c, ["baby", "tea", "baby", "coffee"], []) == ["baby", "coffee", "tea"]
    assert c.profile.tags == ["baby", "coffee", "tea"]


def test_removing_and_repeating_change_nothing_more() -> None:
    c = change(["baby", "tea"])
    assert tags.apply(c, [], ["tea", "never-held"]) == ["baby"]
    assert tags.apply(c, [], ["tea", "never-held"]) == ["baby"]  # the same request again: the same tags
    assert tags.apply(c, ["baby"], []) == ["baby"]


def test_a_tag_in_both_is_added() -> None:
    assert tags.apply(change(["x"]), ["x", "y"], ["x", "y"]) == ["x", "y"]  # removes first, then adds


def test_more_than_the_bound_is_refused_naming_add() -> None:
    held = [f"t{i:02d}" for i in range(MAX_TAGS - 1)]
    c = change(held)
    with pytest.raises(ValidationFailed) as refused:
        tags.apply(c, ["a", "b"], [])
    assert refused.value.details[0]["field"] == "add" and refused.value.details[0]["limit"] == MAX_TAGS
    assert c.profile.tags == held  # nothing applied
    assert tags.apply(c, ["a", "b"], ["t00"]) == sorted([*held[1:], "a", "b"])  # a removal makes room


def test_a_campaign_skips_the_adds_past_the_bound() -> None:
    c = change([f"t{i:02d}" for i in range(MAX_TAGS - 1)])
    after = tags.apply(c, ["z", "a"], [], refuse=False)
    assert len(after) == MAX_TAGS and "z" in after and "a" not in after  # the first ones given win


def test_the_body_names_the_field_at_fault() -> None:
    def fields(body: dict) -> list[str]:
        with pytest.raises(ValidationError) as bad:
            TagsChange.model_validate(body)
        return [".".join(map(str, e["loc"])) for e in bad.value.errors()]

    assert fields({"add": ["tea"], "remove": ["tea"]}) == ["remove"]
    assert fields({"add": ["not a tag!"]}) == ["add.0"]
    assert fields({"add": [f"t{i}" for i in range(MAX_TAGS + 1)]}) == ["add"]
    assert fields({"tags": ["x"]}) == ["tags"]
    assert TagsChange.model_validate({}).model_dump() == {"add": [], "remove": []}
