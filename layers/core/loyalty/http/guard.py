"""Bodies refused before anyone parses them: too large, or nested deeper than any request of the
contract (Python's json has no depth limit and would hit the recursion limit: a 500, not a 4xx)."""

from __future__ import annotations

import re

MAX_BODY_BYTES = 1024 * 1024  # a program document with hundreds of rewards fits easily
MAX_DEPTH = 32  # the deepest contract body (a program document) nests 6 levels

_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def problem(body: str) -> tuple[int, str] | None:
    """(status, message) when the body must be refused, else None."""
    if len(body.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        return 413, f"the body is larger than {MAX_BODY_BYTES} bytes"
    depth = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub('""', body)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_DEPTH:
            return 400, f"the body nests deeper than {MAX_DEPTH} levels"
    return None
