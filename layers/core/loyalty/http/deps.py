"""Per-container resources the routers share (created on first use, reused while warm)."""

from __future__ import annotations

from functools import cache

from ..store import Store


@cache
def store() -> Store:
    return Store()
