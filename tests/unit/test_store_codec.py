"""The item codec of the store: what a write sends is what boto3's TypeSerializer writes, and what a
read hands the rules is what its TypeDeserializer gives, with numbers as integers, whatever the shape
of the item."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty.store.codec import dump, load, plain

FAST = settings(max_examples=300, deadline=None, derandomize=True)
scalars = st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.text(max_size=8)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=5), inner, max_size=4),
    max_leaves=20,
)
items = st.dictionaries(st.text(min_size=1, max_size=6), values | st.sets(st.text(min_size=1), min_size=1), max_size=6)


def library(item: dict[str, Any]) -> dict[str, Any]:
    return {k: plain(TypeDeserializer().deserialize(v)) for k, v in item.items()}


@FAST
@given(items)
def test_an_item_is_written_as_the_library_writes_it_and_reads_back_as_written(item: dict[str, Any]) -> None:
    stored = dump(item)
    assert stored == {k: TypeSerializer().serialize(v) for k, v in item.items()}
    assert load(stored) == item
    assert load(stored) == library(stored)


def test_what_the_library_refuses_is_refused() -> None:
    for value in (10**38, 1.5):  # over DynamoDB's 38 digits; a float (money and points are integers)
        with pytest.raises(Exception) as ours:
            dump({"a": value})
        with pytest.raises(Exception) as theirs:
            TypeSerializer().serialize(value)
        assert type(ours.value) is type(theirs.value)


def test_numbers_are_integers_also_negative_and_in_the_libraries_other_forms() -> None:
    stored = {"a": {"N": "-12"}, "b": {"N": "1E+2"}, "c": {"N": "7"}, "d": {"NS": ["1", "2"]}}
    assert load(stored) == library(stored) == {"a": -12, "b": 100, "c": 7, "d": {Decimal(1), Decimal(2)}}
    assert all(type(load(stored)[k]) is int for k in "abc")
