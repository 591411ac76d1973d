"""The audience index (gsi1, IN items): the members of a program with a tier, tag, segment or stage.

Its items move inside each member's own write (writes.audience_items), so this module only reads them,
and finds the profiles written before the index (the one-off migration, usecases/audiences.py).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ..errors import ValidationFailed
from ..member import Profile
from .codec import dump, load
from .keys import PROFILE_SK, audience_pk, key, member_pk
from .reads import _profile
from .table import Table


def _cursor(pk: str, mid: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"a": pk, "m": mid}, separators=(",", ":")).encode()).decode()


def _after(pk: str, cursor: str) -> str:
    """The member id a cursor of this list continues after; a 422 naming cursor for any other."""
    try:
        got = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        got = None
    if not isinstance(got, dict) or got.get("a") != pk or not isinstance(got.get("m"), str):
        raise ValidationFailed.field("cursor", "not a cursor this list returned")
    return got["m"]


class Audiences(Table):
    def audience_page(
        self, program_id: str, attr: str, value: str, limit: int, cursor: str | None
    ) -> tuple[list[str], str | None]:
        """One page of the audience's member ids, in id order, and the cursor of the next page (None on
        the last): one Query of the keys-only index. The cursor is the last id, not an index key, so a
        member that left the audience since (its item gone) does not break the next page; members
        joining behind the cursor come in a later list, not this one's next page."""
        pk = audience_pk(program_id, attr, value)
        values = {":pk": pk}
        condition = "gsi1pk = :pk"
        if cursor:
            values[":after"] = _after(pk, cursor)
            condition += " AND gsi1sk > :after"
        got = self.client.query(
            TableName=self.table,
            IndexName="gsi1",
            KeyConditionExpression=condition,
            ExpressionAttributeValues=dump(values),
            Limit=limit + 1,  # one more than the page: no cursor to an empty last page
        )
        ids = [item["gsi1sk"]["S"] for item in got["Items"]]
        more = len(ids) > limit or "LastEvaluatedKey" in got
        page = ids[:limit]
        return page, _cursor(pk, page[-1]) if more and page else None

    def get_members(self, program_id: str, member_ids: list[str]) -> list[Profile]:
        """The profiles of those members that exist, in the order given: one BatchGetItem (up to 100)."""
        found = self._batch_get([key(member_pk(program_id, mid), PROFILE_SK) for mid in member_ids])
        by_id = {p.member_id: p for p in (_profile(item) for item in found) if p is not None}
        return [by_id[mid] for mid in member_ids if mid in by_id]

    def unindexed_members(
        self, limit: int, start: dict[str, Any] | None
    ) -> tuple[list[tuple[str, str]], dict[str, Any] | None]:
        """One page of (program, member) whose profile predates the audience index (no `audiences`).
        A Scan, like store/due.old_due_items: a one-off migration an operator runs, never a request."""
        args: dict[str, Any] = {
            "TableName": self.table,
            "FilterExpression": "sk = :profile AND attribute_not_exists(audiences) AND attribute_not_exists(erased_at)",
            "ProjectionExpression": "pk",
            "ExpressionAttributeValues": dump({":profile": PROFILE_SK}),
            "Limit": limit,
        }
        if start:
            args["ExclusiveStartKey"] = start
        got = self.client.scan(**args)
        found = []
        for raw in got["Items"]:
            _, pid, mid = str(load(raw)["pk"]).split("#", 2)
            found.append((pid, mid))
        return found, got.get("LastEvaluatedKey")
