"""`make bench-cel`: the CEL library for campaigns, common-expression-language (module `cel`, Rust core)
against cel-python (module `celpy`, pure Python on lark), on the four criteria of issue 16, one table:

(a) our CEL cases (tests/unit/data/cel_cases.json: 96, written for this repo from CEL's language
    definition, none copied from cel-spec's test suite), passed per area;
(b) one purchase against 20 campaigns: the facts converted once, 20 `when` evaluations, and 5 `on_items`
    expressions over the order's 5 items (25 more), warm, median of many purchases;
(c) cold import in a fresh interpreter (timed inside the child, median of several runs): rules/expressions.py
    (which loads the native `cel.cel` alone), `import cel` as published (its CLI too), `import celpy`;
(d) arm64 wheels for Lambda (python3.11 on Amazon Linux 2, glibc 2.26): what pip picks for the layer's
    platform (manylinux2014 aarch64) for each package the candidate needs, and their unpacked size.

cel-python, and the CLI dependencies of common-expression-language, are bench-only
(bench/requirements-cel.txt): the layer ships neither.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "core"))

from tests.cel_spec import CASES, passes, purchase_facts  # noqa: E402

RUNS = int(os.environ.get("BENCH_CEL_RUNS", "9"))
PURCHASES = int(os.environ.get("BENCH_CEL_PURCHASES", "200"))
PLATFORM = ["--platform", "manylinux2014_aarch64", "--implementation", "cp", "--python-version", "3.11"]
# The packages each candidate puts in the layer (the Rust one without its CLI's dependencies).
LAYER_PACKAGES = {
    "rust": ["common-expression-language"],
    "celpy": ["cel-python", "lark", "google-re2", "pendulum"],
}

WHENS = [  # 20 campaigns of a busy program, most of them not applying to this purchase
    "order.amount_minor >= 3000 && member.tier in ['gold', 'jade'] && order.items.exists(i, i.category == 'tea')",
    "member.orders_total == 0",
    "order.store_id == 'sh-01' && campaign.uses_by_member < 1",
    "at.weekday in [6, 7] && order.amount_minor >= 5000",
    "member.birthday_month == 12 && at.day_of_month <= 7",
    "'baby' in member.tags",
    "order.items.exists(i, i.sku.startsWith('gift-'))",
    "member.lifecycle_stage == 'at_risk' && member.days_since_enrolment > 90",
    "order.channel == 'mini_program' && order.scene == 'scan'",
    "member.lifetime_spend_minor >= 100000 && member.tier != 'jade'",
    "at.hour >= 14 && at.hour < 17",
    "order.items.filter(i, i.category == 'cake').size() >= 2",
    "member.segment == 'champions' || member.growth > 500",
    "size(member.paid_cards) > 0 && order.amount_minor > 2000",
    "order.items.all(i, i.quantity == 1)",
    "member.tags.exists(t, t.startsWith('vip'))",
    "order.amount_minor % 1000 == 0",
    "at.day_of_month == 5",
    "order.items.map(i, i.amount_minor * i.quantity).exists(a, a >= 4000)",
    "member.tier == 'silver' && campaign.uses_by_member < 3",
]
ON_ITEMS = [
    "i.category == 'tea'",
    "i.category == 'cake' && i.quantity >= 2",
    "i.sku.startsWith('gift-')",
    "i.amount_minor >= 1500",
    "i.category in ['tea', 'coffee']",
]
ITEMS = [
    {"sku": "tea-1", "category": "tea", "amount_minor": 1800, "quantity": 2},
    {"sku": "cake-1", "category": "cake", "amount_minor": 1200, "quantity": 1},
    {"sku": "cake-2", "category": "cake", "amount_minor": 900, "quantity": 1},
    {"sku": "coffee-1", "category": "coffee", "amount_minor": 1500, "quantity": 1},
    {"sku": "gift-1", "category": "gift", "amount_minor": 600, "quantity": 1},
]
FACTS = purchase_facts(ITEMS, amount_minor=7800, store_id="sh-02")


class Rust:
    """common-expression-language through rules/expressions.py, exactly as the engine calls it."""

    name = "common-expression-language"

    def __init__(self) -> None:
        from loyalty.rules import expressions

        self.x = expressions
        self.whens = [expressions.compile(s) for s in WHENS]
        self.on_items = [expressions.compile(s) for s in ON_ITEMS]

    def run(self, source: str, bindings: dict[str, Any]) -> Any:
        return self.x.library().compile(source).execute(bindings)

    def purchase(self) -> int:
        x = self.x
        act = x.activation(FACTS)
        hits = sum(x.test(c, act) for c in self.whens)
        return hits + sum(x.test(c, act, item) for c in self.on_items for item in FACTS["order"]["items"])


class CelPy:
    """cel-python: its compiled runner (the AST transpiled to Python), the quicker of its two."""

    name = "cel-python"

    def __init__(self) -> None:
        import celpy

        self.celpy = celpy
        self.env = celpy.Environment(runner_class=celpy.CompiledRunner)
        self.whens = [self.env.program(self.env.compile(s)) for s in WHENS]
        self.on_items = [self.env.program(self.env.compile(s)) for s in ON_ITEMS]

    def run(self, source: str, bindings: dict[str, Any]) -> Any:
        env = self.celpy.Environment()  # the reference interpreter for the CEL cases
        result = env.program(env.compile(source)).evaluate({k: self.celpy.json_to_cel(v) for k, v in bindings.items()})
        if isinstance(result, self.celpy.CELEvalError):
            raise result
        return plain(result)

    def test(self, program: Any, act: dict[str, Any]) -> bool:
        try:  # an error is either raised or returned as a CELEvalError value
            return isinstance(result := program.evaluate(act), self.celpy.celtypes.BoolType) and bool(result)
        except Exception:
            return False

    def purchase(self) -> int:
        act = {k: self.celpy.json_to_cel(v) for k, v in FACTS.items()}
        hits = sum(self.test(p, act) for p in self.whens)
        items = [self.celpy.json_to_cel(item) for item in FACTS["order"]["items"]]
        return hits + sum(self.test(p, act | {"i": item}) for p in self.on_items for item in items)


def plain(value: Any) -> Any:
    """A celpy value as plain Python, to judge it like any other result."""
    from celpy import celtypes

    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    for kind in (bytes, str, float, int):  # celtypes subclass these
        if isinstance(value, kind):
            return kind(value)
    return value


def spec(candidate: Any) -> dict[str, tuple[int, int]]:
    """file -> (passed, of)."""
    counts: dict[str, tuple[int, int]] = {}
    for case in CASES:
        passed, total = counts.get(case["file"], (0, 0))
        counts[case["file"]] = (passed + passes(case, candidate.run), total + 1)
    return counts


def per_purchase(candidate: Any) -> tuple[float, int]:
    """Median microseconds of one purchase's evaluations, and how many tested true."""
    hits = candidate.purchase()  # warm
    samples = []
    for _ in range(PURCHASES):
        start = time.perf_counter()
        candidate.purchase()
        samples.append((time.perf_counter() - start) * 1e6)
    return statistics.median(samples), hits


# Each child has loaded the engine's package (pydantic) first, untimed: every function has, before it
# reaches the campaign rules.
CHILD = """
import sys, time
sys.path.insert(0, {core!r})
import loyalty
start = time.perf_counter()
{statement}
print((time.perf_counter() - start) * 1000)
"""
IMPORTS = {
    "rust": "import loyalty.rules.expressions",  # the native module alone, as the engine loads it
    "rust_cli": "import cel",  # the package as published: its __init__ imports its CLI
    "celpy": "import celpy",
}


def cold(which: str) -> float:
    """Median ms of the import in a fresh interpreter."""
    code = CHILD.format(core=str(ROOT / "layers" / "core"), statement=IMPORTS[which])
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(RUNS)
    ]
    return statistics.median(runs)


def wheels(packages: list[str]) -> tuple[list[str], float]:
    """The wheels pip picks for the layer's platform (binary only), and their unpacked megabytes."""
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--only-binary=:all:", *PLATFORM, "-d", scratch, *packages],
            check=True, capture_output=True,
        )  # fmt: skip
        found = sorted(Path(scratch).glob("*.whl"))
        size = sum(info.file_size for wheel in found for info in zipfile.ZipFile(wheel).infolist())
        return [wheel.name for wheel in found], size / 1e6


def main() -> None:
    rust, celpy = Rust(), CelPy()
    rows: dict[str, list[str]] = {}
    spec_rust, spec_celpy = spec(rust), spec(celpy)
    for file in spec_rust:
        (a, n), (b, _) = spec_rust[file], spec_celpy[file]
        rows[f"CEL cases: {file} (passed of {n})"] = [str(a), str(b)]
    rows[f"CEL cases: all (passed of {len(CASES)})"] = [
        str(sum(p for p, _ in spec_rust.values())),
        str(sum(p for p, _ in spec_celpy.values())),
    ]
    (rust_us, rust_hits), (celpy_us, celpy_hits) = per_purchase(rust), per_purchase(celpy)
    assert rust_hits == celpy_hits, (rust_hits, celpy_hits)  # the same verdicts on the same facts
    evaluations = len(WHENS) + len(ON_ITEMS) * len(ITEMS)
    rows[f"one purchase, 20 campaigns ({evaluations} evaluations), µs median"] = [f"{rust_us:.0f}", f"{celpy_us:.0f}"]
    rows["per evaluation, µs"] = [f"{rust_us / evaluations:.1f}", f"{celpy_us / evaluations:.1f}"]
    rows[f"cold import, ms median of {RUNS}"] = [
        f"{cold('rust'):.1f} (`cel.cel` alone; `import cel` with its CLI: {cold('rust_cli'):.0f})",
        f"{cold('celpy'):.0f}",
    ]
    for key, label in (("rust", 0), ("celpy", 1)):
        names, size = wheels(LAYER_PACKAGES[key])
        cell = f"{'; '.join(names)} ({size:.1f} MB unpacked)"
        rows.setdefault("arm64 wheels for the layer (manylinux2014 aarch64)", ["", ""])[label] = cell
    header = f"| criterion | {rust.name} {version(rust.name)} | {celpy.name} {version(celpy.name)} |"
    lines = [header, "| --- | --- | --- |", *(f"| {k} | {a} | {b} |" for k, (a, b) in rows.items())]
    print("\n".join(lines))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "cel.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
