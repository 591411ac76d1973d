"""S3 for the local runtime: the template's buckets in moto's server (the one the queues use), and a
poller that plays S3's event notifications: a new object whose key a function's S3 event filters
for invokes that function with the record S3 would send, then the queues are drained. A folder
mirrors the import bucket for convenience: `.local/imports/<program_id>/<import_id>.jsonl` is
uploaded as `imports/<program_id>/<import_id>.jsonl`."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3

from .containers import Runtime
from .template import Template

POLL_SECONDS = 0.5


class LocalBuckets:
    def __init__(self, template: Template, endpoint: str, folder: Path | None = None) -> None:
        self.s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        self.names = template.buckets()
        for name in self.names.values():
            self.s3.create_bucket(Bucket=name)
        self.sources = template.s3_sources()
        self.folder = folder
        self._seen: dict[tuple[str, str], str] = {}  # (bucket, key) -> the ETag notified
        self._uploaded: dict[Path, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, runtime: Runtime) -> LocalBuckets:
        self._thread = threading.Thread(target=self._run, args=(runtime,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, runtime: Runtime) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.poll(runtime)
            except Exception as exc:
                print(f"local S3 poll failed: {exc}", flush=True)

    def poll(self, runtime: Runtime) -> int:
        """Upload changed folder files, then notify every new object; the number notified."""
        self._mirror()
        notified = 0
        for source in self.sources:
            bucket = self.names[source.bucket]
            for obj in self._objects(bucket, source.prefix):
                key, etag = obj["Key"], obj["ETag"]
                if not source.matches(key) or self._seen.get((bucket, key)) == etag:
                    continue
                self._seen[(bucket, key)] = etag
                runtime.invoke_and_settle(source.function, notification(bucket, key, obj["Size"], etag))
                notified += 1
        return notified

    def _objects(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [obj for page in pages for obj in page.get("Contents", [])]

    def _mirror(self) -> None:
        if self.folder is None or not self.folder.is_dir() or "ImportBucket" not in self.names:
            return
        for path in sorted(self.folder.glob("*/*.jsonl")):
            changed = path.stat().st_mtime
            if self._uploaded.get(path) == changed or time.time() - changed < 1:  # still being written
                continue
            key = f"imports/{path.parent.name}/{path.name}"
            self.s3.upload_file(str(path), self.names["ImportBucket"], key)
            self._uploaded[path] = changed


def notification(bucket: str, key: str, size: int, etag: str) -> dict[str, Any]:
    """The event S3 sends a function for one created object (keys URL-encoded, as S3 does)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "local"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": "local", "x-amz-id-2": "local"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "local",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "local"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {"key": quote_plus(key), "size": size, "eTag": etag.strip('"'), "sequencer": "0"},
                },
            }
        ]
    }
