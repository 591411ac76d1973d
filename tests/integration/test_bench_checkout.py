"""`make bench-checkout` runs: bench/checkout.py on a tiny size (its own DynamoDB Local), every request
making the round trips it must, and writes its table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def bench(module: str, **env: str) -> str:
    """Runs `python -m bench.<module>` with these settings; what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{module}"],
        check=False,
        cwd=ROOT,
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_checkout_bench_runs_on_a_tiny_size(tmp_path: Path) -> None:
    bench("checkout", BENCH_CHECKOUT_ROUNDS="2", BENCH_CHECKOUT_EVALUATIONS="3", BENCH_RESULTS=str(tmp_path))
    table = (tmp_path / "checkout.md").read_text()
    rows = {
        "purchase": r"1 GetItem \([\d.]+ ms\), 1 TransactWriteItems",
        "purchase, 9 campaigns": r"1 GetItem \([\d.]+ ms\), 1 TransactWriteItems",
        "checkout PUT": r"1 BatchGetItem \([\d.]+ ms\), 1 TransactWriteItems",
        "confirm": r"1 BatchGetItem \([\d.]+ ms\), 1 TransactWriteItems",
    }
    for name, calls in rows.items():
        assert re.search(rf"^\| {name} \| {calls} \(", table, re.MULTILINE), name
    assert "Rules alone" in table
    assert re.search(r"^Floor on this DynamoDB Local .* confirm [\d.]+x", table, re.MULTILINE)


def test_the_transaction_items_bench_runs_on_a_tiny_size() -> None:
    printed = bench("transaction_items", BENCH_ITEMS_ROUNDS="2")
    assert re.search(r"^\| confirm \(8 items\) \| [\d.]+ \| [\d.]+x \|$", printed, re.MULTILINE), printed
