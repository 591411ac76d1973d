"""Grants to an audience: the grant's item (its body, status and running totals) and one item per page
of its fan-out, put once in the same transaction as the page's totals are added, so a page delivered
twice (or run by two workers) counts once. The members' shares are ordinary member writes."""

from __future__ import annotations

import random
import time
from typing import Any

from botocore.exceptions import ClientError

from .codec import dump, load
from .keys import grant_key, grant_page_key
from .table import NEW, Table

LIVE = ("queued", "running")  # statuses a page may still move on from
TRIES = 10  # a page's transaction lost to a concurrent one (another page's totals): tried again


class Grants(Table):
    def create_grant(self, pid: str, grant_id: str, item: dict[str, Any]) -> dict[str, Any] | None:
        """None when the grant was created now; else the grant as stored (its id was taken)."""
        old = self._create({**grant_key(pid, grant_id), "type": "grant", **item})
        if old is None:
            return None
        return old or self.grant(pid, grant_id)

    def grant(self, pid: str, grant_id: str) -> dict[str, Any] | None:
        got = self.client.get_item(TableName=self.table, Key=dump(grant_key(pid, grant_id)), ConsistentRead=True)
        return load(got["Item"]) if "Item" in got else None

    def grant_page(self, pid: str, grant_id: str, n: int) -> dict[str, Any] | None:
        key = dump(grant_page_key(pid, grant_id, n))
        got = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
        return load(got["Item"]) if "Item" in got else None

    def move_grant(self, pid: str, grant_id: str, status: str, at_field: str, at: str) -> dict[str, Any] | None:
        """Set the status (and when) if the grant is still queued or running; the grant as it is after."""
        try:
            got = self.client.update_item(
                TableName=self.table,
                Key=dump(grant_key(pid, grant_id)),
                UpdateExpression="SET #s = :s, #at = :at",
                ConditionExpression="#s IN (:q, :r)",
                ExpressionAttributeNames={"#s": "status", "#at": at_field},
                ExpressionAttributeValues=dump({":s": status, ":at": at, ":q": LIVE[0], ":r": LIVE[1]}),
                ReturnValues="ALL_NEW",
            )
            return load(got["Attributes"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        return self.grant(pid, grant_id)

    def claim_grant_page(self, pid: str, grant_id: str, n: int, ids: str, next_cursor: str | None) -> dict[str, Any]:
        """The page's members (`ids`, JSON text) and the cursor after them, put by the first run; a
        later run gets what the first one put (the same members, whatever the index says now)."""
        item = {**grant_page_key(pid, grant_id, n), "type": "grant_page", "ids": ids}
        if next_cursor:
            item["next_cursor"] = next_cursor
        try:
            self.client.put_item(TableName=self.table, Item=dump(item), ConditionExpression=NEW)
            return item
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
        claimed = self.grant_page(pid, grant_id, n)
        assert claimed is not None  # a page item is never deleted
        return claimed

    def record_page(self, pid: str, grant_id: str, n: int, totals: dict[str, int]) -> bool:
        """The page done, with its totals, and those added to the grant's (with one more page done), in
        one transaction: True when this run recorded it, False when another run had (its counts stand)."""
        names = {f"#t{i}": name for i, name in enumerate(totals)}
        values: dict[str, Any] = {f":t{i}": v for i, v in enumerate(totals.values())}
        page_set = ", ".join(f"#t{i} = :t{i}" for i in range(len(totals)))
        adds = ", ".join(f"#t{i} :t{i}" for i in range(len(totals)))
        items = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": dump(grant_page_key(pid, grant_id, n)),
                    "UpdateExpression": f"SET #done = :done, {page_set}",
                    "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#done)",
                    "ExpressionAttributeNames": {**names, "#done": "done"},
                    "ExpressionAttributeValues": dump({**values, ":done": True}),
                }
            },
            {
                "Update": {
                    "TableName": self.table,
                    "Key": dump(grant_key(pid, grant_id)),
                    "UpdateExpression": f"ADD {adds}, #pages :one",
                    "ExpressionAttributeNames": {**names, "#pages": "pages"},
                    "ExpressionAttributeValues": dump({**values, ":one": 1}),
                }
            },
        ]
        for attempt in range(TRIES):
            reasons = self._transact(items)
            if reasons is None:
                return True
            page = self.grant_page(pid, grant_id, n)
            if reasons[0].get("Code") == "ConditionalCheckFailed" or (page is not None and "done" in page):
                return False
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
        raise RuntimeError(f"grant {grant_id} page {n}: its totals could not be recorded")
