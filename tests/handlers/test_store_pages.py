"""Reads that gather every item of a key range follow DynamoDB's pages to the end."""

from __future__ import annotations

from typing import Any

from loyalty import runtime
from tests.handlers.conftest import Api


def test_a_range_over_several_pages_is_read_whole_and_in_key_order(api: Api) -> None:
    for i in range(5):
        item = {"pk": {"S": "MEMBER#p#m"}, "sk": {"S": f"COUPON#{i}"}, "n": {"N": str(i)}}
        api.client.put_item(TableName="LoyaltyTable", Item=item)
    store = runtime.store()
    pages: list[int] = []

    def small_pages(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = 2

    store.client.meta.events.register("before-parameter-build.dynamodb.Query", small_pages)
    store.client.meta.events.register(
        "after-call.dynamodb.Query", lambda parsed, **_: pages.append(len(parsed["Items"]))
    )
    assert [i["n"] for i in store._query_all("MEMBER#p#m", "COUPON#")] == [0, 1, 2, 3, 4]
    assert pages == [2, 2, 1]
