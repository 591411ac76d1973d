"""`make bench-checkout` runs: bench/checkout.py on a tiny size (its own DynamoDB Local), every request
making the round trips it must, and writes its table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def test_the_checkout_bench_runs_on_a_tiny_size(tmp_path: Path) -> None:
    env = os.environ | {"BENCH_CHECKOUT_ROUNDS": "2", "BENCH_CHECKOUT_EVALUATIONS": "3", "BENCH_RESULTS": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.checkout"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = (tmp_path / "checkout.md").read_text()
    for row in (
        "| purchase | 1 GetItem, 1 TransactWriteItems |",
        "| checkout PUT | 1 BatchGetItem, 1 TransactWriteItems |",
    ):
        assert row in table
    assert "| confirm | 1 BatchGetItem, 1 TransactWriteItems |" in table
    assert "Rules alone" in table
