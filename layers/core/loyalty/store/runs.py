"""The scheduled runs, as the planners record them: one item per planner (its kinds), its last run."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from .codec import dump
from .keys import RUNS_PK, key, run_sk
from .table import Table


class Runs(Table):
    def record_run(self, kinds: list[str], at: str, ran_at: str, planned: int) -> None:
        item = {"pk": RUNS_PK, "sk": run_sk(kinds), "type": "run", "kinds": kinds, "at": at, "ran_at": ran_at}
        self.client.put_item(TableName=self.table, Item=dump({**item, "planned": planned, "members_settled": 0}))

    def count_run(self, kinds: list[str], at: str, settled: int) -> None:
        """Add a work item's settled members to its run's record, if that record is still this run's
        (a later run of the same planner replaced it: its own count is left alone)."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=key(RUNS_PK, run_sk(kinds)),
                UpdateExpression="ADD members_settled :n",
                ConditionExpression="#at = :at",
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues=dump({":n": settled, ":at": at}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def runs(self) -> list[dict[str, Any]]:
        """Every planner's last run (one Query: a handful of items)."""
        return self._query_all(RUNS_PK, "RUN#")
