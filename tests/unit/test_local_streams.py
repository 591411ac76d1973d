"""The local runtime hands stream records on as Lambda and Pipes deliver them."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime

from local.streams import as_delivered
from loyalty.store import codec


def test_a_binary_attribute_arrives_as_base64_text_and_decodes_to_its_bytes() -> None:
    packed = zlib.compress(b'{"points_earned": 72}')  # not UTF-8: a packed answer
    record = {
        "eventID": "1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=UTC),
            "NewImage": {"pk": {"S": "P#p"}, "answer": {"B": packed}, "tags": {"M": {}}},
        },
    }
    [out] = as_delivered([record])
    json.dumps(out)  # Lambda's payload is JSON
    image = out["dynamodb"]["NewImage"]
    assert isinstance(image["answer"]["B"], str)
    assert codec._value(image["answer"]) == packed
    assert image["tags"] == {"M": {}}
    assert out["dynamodb"]["ApproximateCreationDateTime"] == datetime(2026, 1, 1, tzinfo=UTC).timestamp()
