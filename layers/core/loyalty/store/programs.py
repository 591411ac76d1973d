"""Program items: the current document, its history and the registry."""

from __future__ import annotations

import json
import secrets
from typing import Any

from botocore.exceptions import ClientError

from .codec import decode_cursor, dump, load
from .keys import CONFIG_SK, REGISTRY_PK, config_version_sk, draft_sk, key, program_pk, stats_pk, stats_sk
from .table import NEW, Stale, Table, TooLarge

# DynamoDB refuses an item over 400 KB (409,600 bytes: attribute names and values). A program version
# is one item holding the whole document as compact JSON (the current CONFIG item and its CONFIG#v
# history item each hold it), next to keys and a few attributes that take well under 1 KB.
MAX_PROGRAM_BYTES = 400_000
SHADOWED = "program beside its shadow run's draft"  # TooLarge.what: the two documents over one item


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
        found = self.get_program_shadowed(pid)
        return None if found is None else found[:3]

    def get_program_shadowed(self, pid: str) -> tuple[dict[str, Any], int, str | None, dict[str, Any] | None] | None:
        """get_program_and_key and the program's shadow run, {draft_id, until, doc}, if one was started:
        the same one GetItem."""
        got = self.client.get_item(TableName=self.table, Key=key(program_pk(pid), CONFIG_SK), ConsistentRead=True)
        if "Item" not in got:
            return None
        item = load(got["Item"])
        shadow = item.get("shadow")
        if shadow is not None:
            shadow = {**shadow, "doc": json.loads(shadow["doc"])}
        return json.loads(item["doc"]), item["version"], item.get("member_key"), shadow

    def start_shadow(self, pid: str, did: str, until: str, doc: dict[str, Any]) -> None:
        """The program's shadow run (one at a time: it replaces any other), kept on its CONFIG item so that
        every write reads it with the program. TooLarge when the item cannot hold both documents."""
        shadow = {"draft_id": did, "until": until, "doc": _sized(doc)}
        try:
            self.client.update_item(
                TableName=self.table,
                Key=key(program_pk(pid), CONFIG_SK),
                UpdateExpression="SET shadow = :s",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=dump({":s": shadow}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ValidationException":
                raise
            raise TooLarge("program and shadow draft bytes", len(shadow["doc"].encode()), MAX_PROGRAM_BYTES) from None

    def shadow_stats(self, pid: str, did: str) -> dict[str, dict[str, Any]]:
        """A shadow run's counter items by campaign id ("*": the total): one Query."""
        prefix = stats_sk(("shadow", f"{did}#"))
        rows = self._every("pk = :pk AND begins_with(sk, :p)", {":pk": stats_pk(pid), ":p": prefix})
        return {str(r["sk"]).removeprefix(prefix): r for r in rows}

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

    def put_program(
        self,
        pid: str,
        doc: dict[str, Any],
        version: int,
        at: str,
        meta: dict[str, Any] | None = None,
        published: tuple[str, int] | None = None,
    ) -> None:
        """Write version `version` (history + current) if the current one is still `version - 1`.
        `meta` (who saved and published it, what it restored) goes on the history item; `published`
        (draft id, revision) marks that draft published in the same transaction, if still at that revision.
        TooLarge when the document is over MAX_PROGRAM_BYTES (nothing written)."""
        text = _sized(doc)
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
                "Item": dump({"pk": program_pk(pid), "sk": config_version_sk(version), **body, **_given(meta)}),
                "ConditionExpression": NEW,
            }
        }
        items = [current, history, registry] if version == 1 else [current, history]
        if published is not None:
            items.append(self._published(pid, published, version, at, (meta or {}).get("published_by")))
        self._put_version(items, len(text.encode()))

    def _put_version(self, items: list[dict[str, Any]], size: int) -> None:
        """Stale when the live version moved; TooLarge(SHADOWED) when the CONFIG item would be over
        400 KB: the document fits alone (_sized said so), not beside the shadow run's draft it holds."""
        try:
            reasons = self._transact(items)
        except ClientError as exc:  # DynamoDB refusing the item outright, rather than cancelling
            if exc.response.get("Error", {}).get("Code") != "ValidationException":
                raise
            reasons = [{"Code": "ValidationError"}]
        if reasons is not None and any(r.get("Code") == "ValidationError" for r in reasons):
            raise TooLarge(SHADOWED, size, MAX_PROGRAM_BYTES)
        if reasons is not None:
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
        return [{k: v for k, v in i.items() if k in _LISTED} for i in items], last

    def get_version(self, pid: str, version: int) -> dict[str, Any] | None:
        """One saved version: {version, saved_at, doc}."""
        got = self.client.get_item(TableName=self.table, Key=key(program_pk(pid), config_version_sk(version)))
        if "Item" not in got:
            return None
        item = load(got["Item"])
        return {**{k: v for k, v in item.items() if k in _LISTED}, "doc": json.loads(item["doc"])}

    # ---- drafts ------------------------------------------------------------------------------------

    def put_draft(self, pid: str, did: str, doc: dict[str, Any], live: int, at: str, by: str | None) -> dict[str, Any]:
        """Save a draft's document; its base version is `live` at its first save and stays. The item after."""
        values = {":doc": _sized(doc), ":at": at, ":base": live, ":zero": 0, ":one": 1}
        sets = "doc = :doc, saved_at = :at, base_version = if_not_exists(base_version, :base)"
        sets += ", revision = if_not_exists(revision, :zero) + :one"
        if by is not None:
            values[":by"] = by
        got = self.client.update_item(
            TableName=self.table,
            Key=key(program_pk(pid), draft_sk(did)),
            UpdateExpression=f"SET {sets}" + (", saved_by = :by" if by is not None else " REMOVE saved_by"),
            ExpressionAttributeValues=dump(values),
            ReturnValues="ALL_NEW",
        )
        return _draft(load(got["Attributes"]))

    def get_draft(self, pid: str, did: str) -> dict[str, Any] | None:
        """{doc, base_version, revision, saved_at, saved_by?, published_version?, published_revision?}."""
        got = self.client.get_item(TableName=self.table, Key=key(program_pk(pid), draft_sk(did)), ConsistentRead=True)
        return _draft(load(got["Item"])) if "Item" in got else None

    def _published(self, pid: str, draft: tuple[str, int], version: int, at: str, by: str | None) -> dict[str, Any]:
        """The draft marked published as `version`, if no save moved it past `revision` meanwhile."""
        did, revision = draft
        values = _given({":v": version, ":r": revision, ":at": at, ":by": by})
        sets = "published_version = :v, published_revision = :r, published_at = :at"
        return {
            "Update": {
                "TableName": self.table,
                "Key": key(program_pk(pid), draft_sk(did)),
                "UpdateExpression": f"SET {sets}" + (", published_by = :by" if by is not None else ""),
                "ConditionExpression": "revision = :r",
                "ExpressionAttributeValues": dump(values),
            }
        }


# What a version's history item says of it (its document aside).
_LISTED = ("version", "saved_at", "saved_by", "published_by", "restored_from", "draft_id")


def _given(values: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (values or {}).items() if v is not None}


def _sized(doc: dict[str, Any]) -> str:
    """The document as stored; TooLarge over MAX_PROGRAM_BYTES."""
    text = document_text(doc)
    size = len(text.encode())
    if size > MAX_PROGRAM_BYTES:
        raise TooLarge("program document bytes", size, MAX_PROGRAM_BYTES)
    return text


def _draft(item: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in item.items() if k not in ("pk", "sk", "doc")}, "doc": json.loads(item["doc"])}
