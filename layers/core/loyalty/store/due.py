"""The due index (gsi1): who is due for a scheduled kind, and the one-off move of its old layout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from .codec import dump, load
from .keys import due_keys, due_pk, instant, key
from .table import Table


@dataclass
class Due:
    """A member found due: the program, the member and the instant its due day began."""

    program_id: str
    member_id: str
    due_at: str


class DueIndex(Table):
    def due_members(
        self, kind: str, shard: int, at: datetime, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[Due], dict[str, Any] | None]:
        """One page of the members of every program due for `kind` at `at` or earlier, in one shard
        of the sparse index, earliest first. A cursor of another partition (an old work item) is
        ignored: the shard is read from its start, which only re-reads members still due."""
        pk = due_pk(kind, shard)
        args: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk < :after",
            # "$" sorts right after "#": every key of an instant up to `at` is below it.
            "ExpressionAttributeValues": dump({":pk": pk, ":after": f"{instant(at)}$"}),
            "Limit": limit,
        }
        if start and start.get("gsi1pk", {}).get("S") == pk:
            args["ExclusiveStartKey"] = start
        got = self.client.query(**args)
        found = []
        for item in got["Items"]:
            due_at, pid, mid = item["gsi1sk"]["S"].split("#")
            found.append(Due(program_id=pid, member_id=mid, due_at=due_at))
        return found, got.get("LastEvaluatedKey")

    def old_due_items(
        self, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """One page of DUE items still in the per-day layout (no `due_at`). The one Scan in the code:
        a one-off migration (usecases/migrate.py), never a request or a sweep."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "begins_with(sk, :due) AND attribute_not_exists(due_at)",
            "ProjectionExpression": "pk, sk, #day",
            "ExpressionAttributeNames": {"#day": "day"},
            "ExpressionAttributeValues": dump({":due": "DUE#"}),
            "Limit": limit,
        }
        if start:
            args["ExclusiveStartKey"] = start
        got = self.client.scan(**args)
        items = []
        for raw in got["Items"]:
            item = load(raw)
            _, pid, mid = item["pk"].split("#", 2)
            items.append({"program_id": pid, "member_id": mid, "kind": item["sk"].removeprefix("DUE#"), **item})
        return items, got.get("LastEvaluatedKey")

    def rekey_due(self, item: dict[str, Any], due_at: datetime) -> bool:
        """Give an old-layout DUE item its new index keys, unless a member write moved it meanwhile
        (that write put a new-layout item). True when rekeyed."""
        keys = due_keys(item["kind"], due_at, item["program_id"], item["member_id"])
        try:
            self.client.update_item(
                TableName=self.table,
                Key=key(item["pk"], item["sk"]),
                UpdateExpression="SET gsi1pk = :pk, gsi1sk = :sk, due_at = :at",
                ConditionExpression="attribute_not_exists(due_at) AND #day = :day",
                ExpressionAttributeNames={"#day": "day"},
                ExpressionAttributeValues=dump(
                    {":pk": keys["gsi1pk"], ":sk": keys["gsi1sk"], ":at": keys["due_at"], ":day": item["day"]}
                ),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
