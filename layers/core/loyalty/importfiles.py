"""Import files in S3 (moto's S3 in the local runtime): `imports/{program_id}/{import_id}.jsonl`, one
member per line. The file is read once to cut it into batches of byte ranges (what the work queue
carries: a message stays small however long its lines); each worker reads its own range."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from .schemas import IMPORT_BATCH_LINES

KEY = re.compile(r"imports/(?P<program_id>[A-Za-z0-9_.:-]{1,64})/(?P<import_id>[A-Za-z0-9_.:-]{1,64})\.jsonl")


@cache
def _s3() -> Any:
    return boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))


@dataclass(frozen=True)
class Span:
    batch: int  # from 1
    start: int  # byte offsets, inclusive
    end: int
    first_line: int  # the file's line number of its first line, from 1


def named(key: str) -> tuple[str, str] | None:
    """(program id, import id) of an import file's key; None for any other key."""
    found = KEY.fullmatch(key)
    return (found["program_id"], found["import_id"]) if found else None


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Lines ending in b"\n" (the last one may not): one rule of what a line is, for both reads."""
    rest = b""
    for chunk in chunks:
        rest += chunk
        *whole, rest = rest.split(b"\n")
        for line in whole:
            yield line + b"\n"
    if rest:
        yield rest


def spans(bucket: str, key: str, lines: int = IMPORT_BATCH_LINES) -> Iterator[Span]:
    """The file's batches of `lines` lines each, streamed (the file is never held whole)."""
    body = _s3().get_object(Bucket=bucket, Key=key)["Body"]
    offset, start, count, first, batch = 0, 0, 0, 1, 0
    for number, line in enumerate(_lines(body.iter_chunks(chunk_size=1 << 16)), 1):
        if count == 0:
            start, first = offset, number
        offset += len(line)
        count += 1
        if count == lines:
            batch += 1
            yield Span(batch, start, offset - 1, first)
            count = 0
    if count:
        yield Span(batch + 1, start, offset - 1, first)


def read(bucket: str, key: str, span: Span) -> list[str]:
    """The span's lines as text, without their line ends (bytes that are not UTF-8 are replaced: the
    line is then refused as JSON or by its fields, in its place)."""
    body = _s3().get_object(Bucket=bucket, Key=key, Range=f"bytes={span.start}-{span.end}")["Body"].read()
    return [line.rstrip(b"\r\n").decode("utf-8", errors="replace") for line in _lines(iter([body]))]
