"""Import batches: one item per batch, claimed with the hash of its content, then holding its result.
The members themselves are ordinary member writes (Writes.commit)."""

from __future__ import annotations

import json
from typing import Any

from .codec import dump, load
from .keys import batch_key, import_pk
from .table import Table


class Imports(Table):
    def claim_batch(self, pid: str, import_id: str, n: int, digest: str, at: str) -> dict[str, Any] | None:
        """None when this content may run (a new batch, or a twin of a run not finished); else the
        batch as stored (another content: the caller answers 409; done: its result)."""
        item = {**batch_key(pid, import_id, n), "type": "import_batch", "request_hash": digest, "started_at": at}
        old = self._create(item)
        if old is None:
            return None
        found = old or self.batch(pid, import_id, n)
        if found is not None and found.get("request_hash") == digest and "result" not in found:
            return None  # a run of the same content that has not finished (or died): run it again
        return found

    def finish_batch(self, pid: str, import_id: str, n: int, digest: str, result: dict[str, Any]) -> None:
        """Its result, kept for repeats and the report (every run of the same content writes the same)."""
        self.client.update_item(
            TableName=self.table,
            Key=dump(batch_key(pid, import_id, n)),
            UpdateExpression="SET #r = :r",
            ConditionExpression="request_hash = :h",
            ExpressionAttributeNames={"#r": "result"},
            ExpressionAttributeValues=dump({":r": json.dumps(result, separators=(",", ":")), ":h": digest}),
        )

    def batch(self, pid: str, import_id: str, n: int) -> dict[str, Any] | None:
        got = self.client.get_item(TableName=self.table, Key=dump(batch_key(pid, import_id, n)), ConsistentRead=True)
        return load(got["Item"]) if "Item" in got else None

    def batches(self, pid: str, import_id: str) -> list[dict[str, Any]]:
        """Every batch of an import, in batch order (1 Query per 1 MB)."""
        return self._query_all(import_pk(pid, import_id), "BATCH#")
