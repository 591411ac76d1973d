"""Program items: the current document, its history and the registry."""

from __future__ import annotations

import json
import secrets
from typing import Any

from .codec import decode_cursor, dump, load
from .keys import CONFIG_SK, REGISTRY_PK, config_version_sk, key, program_pk
from .table import NEW, Stale, Table, TooLarge

# DynamoDB refuses an item over 400 KB (409,600 bytes: attribute names and values). A program version
# is one item holding the whole document as compact JSON (the current CONFIG item and its CONFIG#v
# history item each hold it), next to keys and a few attributes that take well under 1 KB.
MAX_PROGRAM_BYTES = 400_000


def _member_key() -> str:
    """A program's secret for keyed hashes of member ids (keys.former_key): 256 random bits, made once."""
    return secrets.token_hex(32)


def document_text(doc: Any) -> str:
    """How a program document is stored: compact JSON in UTF-8, not `\\u`-escaped, so that the limit
    counts a CJK character as the 3 bytes it takes, not the 6 of its escape."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


class Programs(Table):
    def get_program(self, pid: str) -> tuple[dict[str, Any], int] | None:
        found = self.get_program_and_key(pid)
        return None if found is None else (found[0], found[1])

    def get_program_and_key(self, pid: str) -> tuple[dict[str, Any], int, str | None] | None:
        """The document, its version and the program's member key (None for a program last saved before
        programs had one: `member_key` makes it)."""
        got = self.client.get_item(TableName=self.table, Key=key(program_pk(pid), CONFIG_SK), ConsistentRead=True)
        if "Item" not in got:
            return None
        item = load(got["Item"])
        return json.loads(item["doc"]), item["version"], item.get("member_key")

    def member_key(self, pid: str) -> str:
        """The program's member key, made now if it has none yet (once: `if_not_exists`)."""
        got = self.client.update_item(
            TableName=self.table,
            Key=key(program_pk(pid), CONFIG_SK),
            UpdateExpression="SET member_key = if_not_exists(member_key, :k)",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=dump({":k": _member_key()}),
            ReturnValues="UPDATED_NEW",  # the key alone, not the document
        )
        return str(load(got["Attributes"])["member_key"])

    def put_program(self, pid: str, doc: dict[str, Any], version: int, at: str) -> None:
        """Write version `version` (history + current) if the current one is still `version - 1`.
        TooLarge when the document is over MAX_PROGRAM_BYTES (nothing written)."""
        text = document_text(doc)
        size = len(text.encode())
        if size > MAX_PROGRAM_BYTES:
            raise TooLarge("program document bytes", size, MAX_PROGRAM_BYTES)
        body = {"program_id": pid, "version": version, "doc": text, "saved_at": at}
        current: dict[str, Any] = {
            "Put": {
                "TableName": self.table,
                "Item": dump({"pk": program_pk(pid), "sk": CONFIG_SK, **body, "member_key": _member_key()}),
                "ConditionExpression": NEW,
            }
        }
        if version > 1:
            # An update, not a put: the member key outlives every version (made by the first that lacks it).
            values = {f":{k}": v for k, v in body.items()} | {":key": _member_key(), ":prev": version - 1}
            sets = ", ".join(f"#{k} = :{k}" for k in body)
            current = {
                "Update": {
                    "TableName": self.table,
                    "Key": key(program_pk(pid), CONFIG_SK),
                    "UpdateExpression": f"SET {sets}, member_key = if_not_exists(member_key, :key)",
                    "ConditionExpression": "#version = :prev",
                    "ExpressionAttributeNames": {f"#{k}": k for k in body},
                    "ExpressionAttributeValues": dump(values),
                }
            }
        registry = {
            "Put": {
                "TableName": self.table,
                "Item": dump({"pk": REGISTRY_PK, "sk": program_pk(pid), "type": "program"}),
            }
        }
        history = {
            "Put": {
                "TableName": self.table,
                "Item": dump({"pk": program_pk(pid), "sk": config_version_sk(version), **body}),
                "ConditionExpression": NEW,
            }
        }
        if self._transact([current, history, registry] if version == 1 else [current, history]) is not None:
            raise Stale({"program"})

    def versions(
        self, pid: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None] | None:
        """A page of the program's saved versions, newest first, without their documents (read but
        not returned); None when `cursor` is not one of this history's."""
        start = None
        if cursor:
            start = decode_cursor(cursor, program_pk(pid), "CONFIG#v")
            if start is None:
                return None
        items, last = self._query(program_pk(pid), "CONFIG#v", limit, start, newest_first=True)
        return [{"version": i["version"], "saved_at": i["saved_at"]} for i in items], last

    def get_version(self, pid: str, version: int) -> dict[str, Any] | None:
        """One saved version: {version, saved_at, doc}."""
        got = self.client.get_item(TableName=self.table, Key=key(program_pk(pid), config_version_sk(version)))
        if "Item" not in got:
            return None
        item = load(got["Item"])
        return {"version": item["version"], "saved_at": item["saved_at"], "doc": json.loads(item["doc"])}
