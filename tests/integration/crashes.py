"""A Lambda dying before or after any DynamoDB call of a write, then the write run again: the one loop
test_faults.py, test_wallets.py and test_referral.py share. Faults are botocore event hooks on the
store's client: `before-call` raises before the request is sent, `after-call` after its answer arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from loyalty.store import Store

T = TypeVar("T")
RETRIES = 2  # the client's retry (or the stream's redelivery), and a duplicate of it for good measure


class Crash(BaseException):
    """A Lambda dying mid-request: not an Exception, so no handler in the code under test catches it."""


def count_calls(s: Store, run: Callable[[], Any]) -> list[str]:
    """The DynamoDB operations `run` calls, in order."""
    seen: list[str] = []

    def note(model: Any, **_: Any) -> None:
        seen.append(model.name)

    s.client.meta.events.register("before-call.dynamodb", note)
    try:
        run()
    finally:
        s.client.meta.events.unregister("before-call.dynamodb", note)
    return seen


def crashed_then_retried(
    store: Store, calls: int, setup: Callable[[], T], write: Callable[[T], Any]
) -> Iterator[tuple[T, str]]:
    """For each of the write's `calls` DynamoDB calls, before and after it: a fresh history (`setup`,
    whose result `write` takes), the write dying there, then run again RETRIES times. Yields what
    setup made, once retried, and where the crash was ("after-call call 3")."""
    for index in range(calls):
        for when in ("before-call", "after-call"):
            other = setup()
            seen = [0]

            def crash(model: Any, index: int = index, seen: list[int] = seen, when: str = when, **_: Any) -> None:
                seen[0] += 1
                if seen[0] == index + 1:
                    raise Crash(f"died {when} call {index + 1} ({model.name})")

            store.client.meta.events.register(f"{when}.dynamodb", crash)
            try:
                with pytest.raises(Crash):
                    write(other)
            finally:
                store.client.meta.events.unregister(f"{when}.dynamodb", crash)
            for _ in range(RETRIES):
                write(other)
            yield other, f"{when} call {index + 1}"


def each_crash_ends_as_a_clean_run(
    store: Store,
    name: str,
    fresh: Callable[[], str],
    history: Callable[[Store, str, str], Any],
    write: Callable[[Store, str, str], Any],
    state: Callable[[Store, str, str], Any],
) -> Iterator[str]:
    """Member "clean" of a `fresh` program with its `history` gets the write once, cleanly; then, for
    each crash point, the same in another fresh program, crashed and retried: each ends in the clean
    run's `state`. Yields each such program for the caller's own checks."""
    pid = fresh()
    history(store, pid, "clean")
    calls = count_calls(store, lambda: write(store, pid, "clean"))
    expected = state(store, pid, "clean")
    assert calls, name

    def setup() -> str:
        # The same history in another program: same member id, so derived ids compare equal.
        other = fresh()
        history(store, other, "clean")
        return other

    for other, where in crashed_then_retried(store, len(calls), setup, lambda p: write(store, p, "clean")):
        assert state(store, other, "clean") == expected, f"{name}: {where} of {calls}"
        yield other
