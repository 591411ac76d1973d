"""What the rules may import (CONTRIBUTING.md, "Who may import whom"), read from the source: the rules'
imports form no circle, and no rule reaches storage, use cases, adapters or AWS; no function of the core
grows past sixty lines."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

RULES = Path(__file__).parents[2] / "layers" / "core" / "loyalty" / "rules"
PACKAGE = ["loyalty", "rules"]
FORBIDDEN = ("loyalty.store", "loyalty.usecases", "loyalty.http", "loyalty.jobs", "boto3", "botocore")


def imports(path: Path) -> set[str]:
    """Every module the file imports, anywhere in it (TYPE_CHECKING blocks and function bodies too), as
    absolute names: `from . import tiers` in rules/ is `loyalty.rules.tiers`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            package = PACKAGE[: len(PACKAGE) - node.level + 1] if node.level else []
            module = ".".join([*package, *([node.module] if node.module else [])])
            # `from . import tiers` imports a module, `from .posting import Change` a name: keep both.
            names |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return names


def rules_graph() -> dict[str, set[str]]:
    """rules module -> the rules modules it imports."""
    modules = {p.stem for p in RULES.glob("*.py") if p.stem != "__init__"}
    return {m: {name.removeprefix("loyalty.rules.") for name in imports(RULES / f"{m}.py")} & modules for m in modules}


def test_the_rules_import_one_another_without_a_circle() -> None:
    graph = rules_graph()
    assert graph["posting"] <= {"buckets", "holds", "pending"}  # the Change knows points (held, and pending)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as cycle:
        pytest.fail(f"rules/ import circle: {' -> '.join(cycle.args[1])}")
    assert set(order) == set(graph)


@pytest.mark.parametrize("module", sorted(p.stem for p in RULES.glob("*.py")))
def test_a_rule_imports_no_store_use_case_adapter_or_aws(module: str) -> None:
    reached = {name for name in imports(RULES / f"{module}.py") if name.startswith(FORBIDDEN)}
    assert not reached, f"rules/{module}.py imports {sorted(reached)}"


def test_the_import_reader_sees_relative_and_guarded_imports(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import tiers\n"
        "from .. import clock\n"
        "from ..store import Store\n"
        "if TYPE_CHECKING:\n"
        "    from .posting import Change\n"
        "def f():\n"
        "    import boto3\n"
    )
    found = imports(source)
    assert {"loyalty.rules.tiers", "loyalty.clock", "loyalty.store", "loyalty.rules.posting", "boto3"} <= found


CORE = RULES.parent
LONGEST = 60  # lines a function of the core may take (issue 28): past it, a reader loses the thread


def test_no_function_of_the_core_is_longer_than_sixty_lines() -> None:
    long = [
        f"{path.relative_to(CORE)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in sorted(CORE.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > LONGEST
    ]
    assert not long, long
