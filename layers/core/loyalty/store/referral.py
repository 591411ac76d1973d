"""Referral codes: REFCODE#{pid}#{code} -> the member it is, one GetItem to look up, one conditional
Put to claim (keys.refcode_key)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from .codec import dump
from .keys import refcode_key
from .table import NEW, Table


class Referrals(Table):
    def code_owner(self, pid: str, code: str) -> str | None:
        """The member a referral code is, or None (never claimed). Strongly consistent: a code read a
        moment ago by its member is known at once."""
        got = self.client.get_item(TableName=self.table, Key=dump(refcode_key(pid, code)), ConsistentRead=True)
        item = got.get("Item")
        return item["member_id"]["S"] if item else None

    def claim_code(self, pid: str, code: str, mid: str) -> bool:
        """Map `code` to `mid` if no one holds it yet; False when it is held (by whom: code_owner)."""
        item = {**refcode_key(pid, code), "type": "refcode", "member_id": mid}
        try:
            self.client.put_item(TableName=self.table, Item=dump(item), ConditionExpression=NEW)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def drop_codes(self, pid: str, codes: list[str], mid: str) -> None:
        """Delete those of `codes` that map to `mid` (its erasure): 1 BatchGetItem, then 1 DeleteItem per
        one found, conditional on still naming `mid` (a repeat, or a code freed and claimed since)."""
        for item in self._batch_get([dump(refcode_key(pid, code)) for code in codes]):
            if item.get("member_id") != mid:
                continue
            try:
                self.client.delete_item(
                    TableName=self.table,
                    Key=dump({"pk": item["pk"], "sk": item["sk"]}),
                    ConditionExpression="member_id = :m",
                    ExpressionAttributeValues=dump({":m": mid}),
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
