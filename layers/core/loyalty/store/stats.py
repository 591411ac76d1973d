"""Health counters: per-program figures added from the stream, each stream record counted once."""

from __future__ import annotations

from typing import Any

from .codec import dump
from .keys import budget_key, key, seen_key, stats_pk, stats_sk
from .table import NEW, Stale, Table

Counters = dict[tuple[str, tuple[str, str]], dict[str, int]]  # (program, period) -> name -> amount


class Stats(Table):
    def add_stats(self, counters: Counters, seen: list[str], expires_at: int) -> set[str]:
        """Add counters and mark the stream records they come from as counted, in one transaction, so
        a record delivered again is never counted twice. Returns the records found counted already
        (then nothing was written: the caller drops them and adds the rest)."""
        items = [self._seen_put(event_id, expires_at) for event_id in seen]
        items += [
            self._counter_add(pid, period, given) for (pid, period), given in counters.items() if any(given.values())
        ]
        reasons = self._transact(items)
        if reasons is None:
            return set()
        counted = {seen[i] for i, r in enumerate(reasons[: len(seen)]) if r.get("Code") == "ConditionalCheckFailed"}
        if not counted:
            raise Stale(set())  # a conflict with another batch: the caller retries
        return counted

    def stats(self, pid: str, first: tuple[str, str], last: tuple[str, str]) -> list[dict[str, Any]]:
        """A program's counter items from period `first` to `last` of the same kind, in order."""
        return self._every(
            "pk = :pk AND sk BETWEEN :a AND :b", {":pk": stats_pk(pid), ":a": stats_sk(first), ":b": stats_sk(last)}
        )

    def day_stats(self, pid: str, first: str, last: str) -> dict[str, dict[str, Any]]:
        """The day counters from day `first` to `last` (YYYY-MM-DD), by day (1 Query per 1 MB)."""
        prefix = stats_sk(("day", ""))
        return {str(r["sk"]).removeprefix(prefix): r for r in self.stats(pid, ("day", first), ("day", last))}

    def campaign_figures(
        self, pid: str, campaign_id: str, budget_keys: list[str]
    ) -> tuple[dict[str, Any], dict[str, int]]:
        """A campaign's counters and what its budgets have given (budget key -> taken), in one round trip."""
        keys = [key(stats_pk(pid), stats_sk(("campaign", campaign_id)))] + [
            dump(budget_key(pid, k)) for k in budget_keys
        ]
        found = self._batch_get(keys)
        counters = next((i for i in found if i["pk"] == stats_pk(pid)), {})
        taken = {i["pk"].split("#", 2)[2]: int(i.get("taken", 0)) for i in found if i["pk"].startswith("BUDGET#")}
        return counters, taken

    def campaign_days(self, pid: str, first: str, last: str) -> dict[str, dict[str, dict[str, Any]]]:
        """Every campaign's day counters from day `first` to `last` (YYYY-MM-DD), by campaign then day:
        one Query (a page per 1 MB), one item per campaign per day that counted anything."""
        prefix = stats_sk(("campaign_day", ""))
        rows = self.stats(pid, ("campaign_day", first), ("campaign_day", f"{last}#~"))  # "~" after every id
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for r in rows:
            day, campaign_id = str(r["sk"]).removeprefix(prefix).split("#", 1)
            out.setdefault(campaign_id, {})[day] = r
        return out

    def experiment_arms(self, pid: str, campaign_id: str) -> dict[str, dict[str, Any]]:
        """An experiment campaign's counters by arm: one Query of its `X#{campaign_id}#` items."""
        prefix = stats_sk(("experiment", f"{campaign_id}#"))
        last = ("experiment", f"{campaign_id}#~")  # "~" sorts after every arm id
        rows = self.stats(pid, ("experiment", f"{campaign_id}#"), last)
        return {str(r["sk"]).removeprefix(prefix): r for r in rows}

    def referral_stats(self, pid: str, first: str, last: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The referral counters of days `first` to `last`, and the per-referrer ones (each with its
        `day` and `referrer`): 2 Queries (a page per 1 MB)."""
        days = self.stats(pid, ("referral_day", first), ("referral_day", last))
        prefix = stats_sk(("referrer_day", ""))
        rows = self.stats(pid, ("referrer_day", first), ("referrer_day", f"{last}#~"))  # "~" after every id
        split = [(r, str(r["sk"]).removeprefix(prefix).split("#", 1)) for r in rows]
        return days, [{**r, "day": day, "referrer": mid} for r, (day, mid) in split]

    def budgets_taken(self, pid: str, budget_keys: list[str]) -> dict[str, int]:
        """What budgets have given, by budget key (BatchGetItem, 100 keys a call; no keys: no call)."""
        found = self._batch_get([dump(budget_key(pid, k)) for k in budget_keys])
        return {i["pk"].split("#", 2)[2]: int(i.get("taken", 0)) for i in found}

    def _seen_put(self, event_id: str, expires_at: int) -> dict[str, Any]:
        marker = {**seen_key(event_id), "type": "seen", "expires_at": expires_at}
        return {"Put": {"TableName": self.table, "Item": dump(marker), "ConditionExpression": NEW}}

    def _counter_add(self, pid: str, period: tuple[str, str], given: dict[str, int]) -> dict[str, Any]:
        values = {k: v for k, v in given.items() if v}
        names = {f"#c{i}": name for i, name in enumerate(values)}
        amounts = {f":c{i}": value for i, value in enumerate(values.values())}
        return {
            "Update": {
                "TableName": self.table,
                "Key": key(stats_pk(pid), stats_sk(period)),
                "UpdateExpression": "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(values))),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": dump(amounts),
            }
        }
