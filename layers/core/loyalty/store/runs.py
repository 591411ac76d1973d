"""The scheduled runs, as the planners record them: one item per planner (its kinds), its last run."""

from __future__ import annotations

from typing import Any

from .codec import dump
from .keys import RUNS_PK, run_sk
from .table import Table


class Runs(Table):
    def record_run(self, kinds: list[str], at: str, ran_at: str, planned: int) -> None:
        item = {"pk": RUNS_PK, "sk": run_sk(kinds), "type": "run", "kinds": kinds, "at": at, "ran_at": ran_at}
        self.client.put_item(TableName=self.table, Item=dump({**item, "planned": planned}))

    def runs(self) -> list[dict[str, Any]]:
        """Every planner's last run (one Query: a handful of items)."""
        return self._query_all(RUNS_PK, "RUN#")
