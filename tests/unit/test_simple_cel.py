"""rules/simple_cel.py answers a fact against a literal (and `&&`s of them) in Python: on any facts,
whatever their types, `expressions.test` answers as the CEL library alone does (a value it cannot
be sure of goes to the library), with an item bound to `i` or not, in a campaign's view or not."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.rules import expressions, simple_cel

FAST = settings(max_examples=400, deadline=None, derandomize=True)
FIELDS = ("category", "quantity", "tier")
values = st.one_of(
    st.sampled_from(["tea", "cake", "gold", "", "Tea", "tea "]),
    st.integers(-3, 3000),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), True, False, None, 2.0, [], {}]),
)
facts_of = st.dictionaries(st.sampled_from(FIELDS), values, max_size=3)
literals = st.sampled_from(["'tea'", "'gold'", "''", '"cake"', "0", "2", "-1", "3000", "9223372036854775807"])
operators = st.sampled_from(["==", "!=", ">=", "<=", ">", "<"])
variables = st.sampled_from(["i", "member", "campaign", "order"])


@st.composite
def atoms(draw: Any) -> str:
    ref = f"{draw(variables)}.{draw(st.sampled_from(FIELDS))}"
    if draw(st.booleans()):
        return f"{ref} {draw(operators)} {draw(literals)}"
    return f"{ref} in [{', '.join(draw(st.lists(literals, min_size=1, max_size=3)))}]"


sources = st.lists(atoms() | st.sampled_from(["true", "false"]), min_size=1, max_size=3).map(" && ".join)


def library_alone(source: str) -> expressions.Compiled:
    compiled = expressions.compile(source)
    compiled.simple = None
    return compiled


@FAST
@given(sources, facts_of, facts_of, facts_of, st.booleans(), st.booleans())
def test_the_python_answer_is_the_librarys(
    source: str, item: dict[str, Any], member: dict[str, Any], view: dict[str, Any], bound: bool, own_view: bool
) -> None:
    facts = {"member": member, "campaign": {"tier": "gold"}, "order": {"items": [item]}}
    act = expressions.activation(facts)
    act = act.for_campaign(view) if own_view else act
    on = item if bound else None
    assert expressions.test(expressions.compile(source), act, on) == expressions.test(library_alone(source), act, on)


@pytest.mark.parametrize(
    "source",
    [
        "i.category == 'tea'",
        "order.amount_minor >= 10000",
        "member.tier in ['gold', 'jade']",
        "at.hour >= 8 && at.hour < 22",
        "campaign.uses_by_member < 5",
        "true",
        "i.category == 'a&&b'",
    ],
)
def test_the_common_conditions_are_simple(source: str) -> None:
    assert simple_cel.parse(source) is not None


@pytest.mark.parametrize(
    "source",
    [
        "order.items.exists(i, i.category == 'beans')",
        "i.sku.startsWith('a')",
        "member.tier == 'gold' || member.tier == 'jade'",
        "member.tier >= 'gold'",  # strings by equality only
        "i.quantity == 1u",
        "i.quantity == 1.0",
        "i.quantity == 01",
        "member.tier in ['gold', 1]",
        "member.tier == 'gold' // a comment",
        "!(member.tier == 'gold')",
        "member.profile.tier == 'gold'",
        "i.category == 'it\\'s'",
    ],
)
def test_anything_else_goes_to_the_library(source: str) -> None:
    assert simple_cel.parse(source) is None
