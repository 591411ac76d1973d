"""The template's stream consumers, locally: DynamoDB Local's table stream is polled, and each batch of
records goes to the consumer's function in its container pool. For a Pipe, that is its enrichment (a
list of records in), and the domain events it returns are kept in an event log a developer reads at
`GET /_local/events` (standing in for the bus; nothing is sent anywhere). For a function's DynamoDB
event it is `{"Records": [...]}`, as Lambda's event source mapping delivers it; a failed batch is
tried again from the same records, as Lambda would.
"""

from __future__ import annotations

import base64
import threading
import time
from collections import deque
from datetime import datetime
from typing import Any

from .containers import Runtime
from .dynamodb import client, streams_client
from .template import StreamConsumer

POLL_SECONDS = 0.25
KEEP = 5000  # events kept in memory (oldest dropped first)
RETRIES = 3  # a batch that keeps failing is given up on, as the DLQ would take it


class EventLog:
    def __init__(self) -> None:
        self.events: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self.seq = 0
        self.lock = threading.Lock()

    def add(self, events: list[dict[str, Any]]) -> None:
        with self.lock:
            for event in events:
                self.seq += 1
                self.events.append({"seq": self.seq, **event})

    def since(self, seq: int = 0) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.events if e["seq"] > seq]


def _plain(value: Any) -> Any:
    """Stream records as Lambda receives them: JSON, creation time in epoch seconds."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):  # a binary attribute (a large answer kept compressed): base64, as Lambda's
        return base64.b64encode(value).decode()
    return value


def _attribute(value: Any) -> Any:
    """boto3 parses an empty map attribute ({"M": {}}) into {}; Lambda and Pipes get the raw JSON."""
    if value == {}:
        return {"M": {}}
    if "M" in value:
        return {"M": {k: _attribute(v) for k, v in value["M"].items()}}
    if "L" in value:
        return {"L": [_attribute(v) for v in value["L"]]}
    return value


def as_delivered(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records from boto3's GetRecords as a Pipe or Lambda delivers them."""
    out = _plain(records)
    for record in out:
        images = record.get("dynamodb", {})
        for name in ("NewImage", "OldImage", "Keys"):
            if name in images:
                images[name] = {k: _attribute(v) for k, v in images[name].items()}
    return out


class StreamPoller:
    """One consumer: reads every shard of its table's stream from where the runtime started (LATEST
    for shards open then, the start of shards opened later), in order, and hands each batch on."""

    def __init__(self, pipe: StreamConsumer, endpoint: str, runtime: Runtime, log: EventLog) -> None:
        self.pipe = pipe
        self.runtime = runtime
        self.log = log
        self.ddb = client(endpoint)
        self.streams = streams_client(endpoint)
        self.arn = self.ddb.describe_table(TableName=pipe.table)["Table"]["LatestStreamArn"]
        self.iterators: dict[str, str | None] = {}
        self.stopped = threading.Event()
        self.failures = 0
        self.retries: dict[str, int] = {}
        for shard in self._shards():
            if "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {}):
                self.iterators[shard["ShardId"]] = self._iterator(shard["ShardId"], "LATEST")
            else:
                self.iterators[shard["ShardId"]] = None  # closed before we started: history, not news
        self.thread = threading.Thread(target=self._run, daemon=True, name=f"pipe-{pipe.name}")

    def _shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        start: str | None = None
        while True:
            args: dict[str, Any] = {"StreamArn": self.arn}
            if start:
                args["ExclusiveStartShardId"] = start
            got = self.streams.describe_stream(**args)["StreamDescription"]
            shards += got["Shards"]
            start = got.get("LastEvaluatedShardId")
            if not start:
                return shards

    def _iterator(self, shard_id: str, kind: str, **at: str) -> str:
        got = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id, ShardIteratorType=kind, **at)
        return str(got["ShardIterator"])

    def poll_once(self) -> int:
        """One pass over the shards; the number of records handed on."""
        for shard in self._shards():
            if shard["ShardId"] not in self.iterators:
                self.iterators[shard["ShardId"]] = self._iterator(shard["ShardId"], "TRIM_HORIZON")
        handed = 0
        for shard_id, iterator in list(self.iterators.items()):
            if iterator is None:
                continue
            got = self.streams.get_records(ShardIterator=iterator, Limit=100)
            records = as_delivered(got.get("Records", []))
            if records and not self._deliver(records) and self.retries.get(shard_id, 0) < RETRIES:
                self.retries[shard_id] = self.retries.get(shard_id, 0) + 1
                first = records[0]["dynamodb"]["SequenceNumber"]  # the same batch again, next pass
                self.iterators[shard_id] = self._iterator(shard_id, "AT_SEQUENCE_NUMBER", SequenceNumber=first)
                continue
            self.retries.pop(shard_id, None)  # taken, or given up on (in AWS: its dead-letter queue)
            handed += len(records)
            self.iterators[shard_id] = got.get("NextShardIterator")
        return handed

    def _deliver(self, records: list[dict[str, Any]]) -> bool:
        """True when the consumer took the batch."""
        if self.pipe.function is None:
            return True
        event: Any = records if self.pipe.pipe else {"Records": records}
        status, result = self.runtime.invoke(self.pipe.function, event)
        if status == "ok":
            if self.pipe.pipe and isinstance(result, list):
                self.log.add(result)
            return True
        self.failures += 1  # the Pipe or the mapping would retry, then dead-letter the batch
        print(f"{self.pipe.name}: {len(records)} records failed: {result}")
        return False

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                if not self.poll_once():
                    time.sleep(POLL_SECONDS)
            except Exception as exc:
                if self.stopped.is_set():
                    return
                print(f"pipe {self.pipe.name}: {exc}")
                time.sleep(1)

    def start(self) -> StreamPoller:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
