"""The table itself: the DynamoDB client and its retries, the calls every part of the store shares
(a transaction, a paged query, a batch of keys), and the ways a write is refused."""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as TransportError

from ..errors import Unavailable
from .codec import dump, load
from .keys import key

# Retries, chosen: botocore's adaptive mode retries throttling and transient errors with backoff and
# slows the client down under throttling; 5 attempts keep a request well inside API Gateway's 30 s.
# Optimistic-lock races and transaction conflicts are not botocore's to retry: usecases/pipeline.retry re-reads.
CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 5}, connect_timeout=2, read_timeout=5)
THROTTLED = {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"}
BATCH_KEYS = 100  # BatchGetItem's keys per call
NEW = "attribute_not_exists(pk)"  # the condition of a put that creates an item


def _throttled(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
    """Throttling that outlasted the retries is a 503 the client may retry, not an internal error."""
    code = parsed.get("Error", {}).get("Code")
    if code in THROTTLED:
        raise Unavailable("the table is busy; retry shortly", [{"reason": code, "operation": model.name}])


def _unreachable(exception: Exception, event_name: str, **_: Any) -> None:
    """The table could not be reached after the retries (refused, timed out, connection closed): like
    throttling, a 503 the client retries with the same id, not an internal error; a job fails and is
    delivered again. A read timeout may hide a write that committed: the retry replays it."""
    if isinstance(exception, TransportError | HTTPClientError):
        reason = type(exception).__name__
        raise Unavailable(
            "the table cannot be reached; retry shortly",
            [{"reason": reason, "operation": event_name.rsplit(".", 1)[-1]}],
        ) from exception


class Stale(Exception):
    """The write did not commit: a condition failed or DynamoDB reported a transaction conflict.
    `failed` names the guards whose condition failed ("profile", "stock", "coupon", ...)."""

    def __init__(self, failed: set[str] | None = None) -> None:
        super().__init__(f"write not committed: {sorted(failed or [])}")
        self.failed = failed or set()


class TooLarge(Exception):
    """The write cannot be stored as it is: `size` is over `limit` (bytes of an item, or items of a
    transaction). Raised before calling DynamoDB, which would answer with a ValidationException."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        super().__init__(f"{what}: {size} over the limit of {limit}")
        self.what, self.size, self.limit = what, size, limit


class RefExists(Exception):
    """The idempotency reference is already there; `item` is what the first request stored."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("reference exists")
        self.item = item


class Table:
    """The client and the table's name; the parts of the Store (reads, writes, ...) build on it."""

    def __init__(self, table_name: str | None = None, client: Any = None) -> None:
        self.table = table_name or os.environ["TABLE_NAME"]
        self.client = client or boto3.client("dynamodb", config=CONFIG)
        self.client.meta.events.register("after-call.dynamodb", _throttled)
        self.client.meta.events.register("after-call-error.dynamodb", _unreachable)

    def _transact(self, items: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
        """Run a transaction; None when it committed, the cancellation reasons when a condition or a
        concurrent transaction stopped it (callers decide whether that is a lost race or a duplicate)."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "TransactionCanceledException":
                reasons = exc.response.get("CancellationReasons") or [{}] * len(items)
                return reasons
            if code in ("TransactionConflictException", "ConditionalCheckFailedException"):
                return [{}] * len(items)
            raise
        return None

    def _create(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """Put `item` (a plain dict) unless its key is taken: None when created, else the item there
        (empty when DynamoDB did not return it: the caller reads it)."""
        try:
            self.client.put_item(
                TableName=self.table,
                Item=dump(item),
                ConditionExpression=NEW,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return None
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            old = exc.response.get("Item")
        return load(old) if old else {}

    def _batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The items of those keys that exist, strongly consistent, BATCH_KEYS keys a call."""
        items: list[dict[str, Any]] = []
        for at in range(0, len(keys), BATCH_KEYS):
            request: dict[str, Any] = {self.table: {"Keys": keys[at : at + BATCH_KEYS], "ConsistentRead": True}}
            while request:
                got = self.client.batch_get_item(RequestItems=request)
                items += [load(i) for i in got["Responses"].get(self.table, [])]
                request = got.get("UnprocessedKeys") or {}
        return items

    def _query_all(self, pk: str, prefix: str) -> list[dict[str, Any]]:
        return self._every("pk = :pk AND begins_with(sk, :prefix)", {":pk": pk, ":prefix": prefix})

    def _every(self, key_condition: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item a key condition matches, oldest key first. A plain loop rather than botocore's
        Query paginator: on a coupon wallet the paginator's own Python was 9% of the request's."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": dump(values),
        }
        items: list[dict[str, Any]] = []
        while True:
            got = self.client.query(**args)
            items += [load(i) for i in got["Items"]]
            if "LastEvaluatedKey" not in got:
                return items
            args["ExclusiveStartKey"] = got["LastEvaluatedKey"]

    def _query(
        self, pk: str, prefix: str, limit: int, start: dict[str, Any] | None, newest_first: bool
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of a partition's items whose sort key starts with `prefix`, and the key to start the
        next page at: None on the last page. One item more than the page is read, because DynamoDB
        returns a LastEvaluatedKey whenever it stops at Limit, even with nothing after it, and a client
        should not follow a cursor to an empty page."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": dump({":pk": pk, ":prefix": prefix}),
            "ScanIndexForward": not newest_first,
            "Limit": limit + 1,
        }
        if start:
            args["ExclusiveStartKey"] = start
        got = self.client.query(**args)
        items = [load(i) for i in got["Items"][:limit]]
        more = len(got["Items"]) > limit or "LastEvaluatedKey" in got  # fewer with a key: it stopped at 1 MB
        return items, key(items[-1]["pk"], items[-1]["sk"]) if more and items else None
