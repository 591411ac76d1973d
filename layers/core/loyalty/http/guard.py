"""Bodies refused before the app reads them: too large, nested deeper than any request of the
contract (Python's json has no depth limit and would hit the recursion limit: a 500, not a 4xx),
naming a key twice (json would keep the last silently: the client meant one of them, we can't know which),
holding a lone surrogate escape ("\\ud800": JSON, but no Unicode text; UTF-8 cannot encode it, and
a program document is stored as UTF-8), or an integer longer than Python converts (4,300 digits: the
app's own parse would raise, a 500)."""

from __future__ import annotations

import json
import re
from typing import Any

from .. import caller
from ..errors import field_path
from ..program import PRINTABLE

MAX_BODY_BYTES = 1024 * 1024  # a program document with hundreds of rewards fits easily
MAX_DEPTH = 32  # the deepest contract body (a program document) nests 6 levels

_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"')
_BRACKETS = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # an escape of either half of a surrogate pair


MAX_DIGITS = 4300  # sys.get_int_max_str_digits(): past it int() raises; no contract number comes near


class _Refused(ValueError):
    """Raised by the parser's hooks: the (status, message, field) the body is refused with."""

    def __init__(self, status: int, message: str, field: str) -> None:
        super().__init__(message)
        self.answer = (status, message, field)


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Refused(400, f"the body holds an integer of more than {MAX_DIGITS} digits", "body")
    return int(text)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) < len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _Refused(400, f"the key {name!r} appears twice in one object", name)
            seen.add(name)
    return found


def _lone_surrogate(value: Any, at: tuple[int | str, ...]) -> tuple[int | str, ...] | None:
    """Where the first string holding a lone surrogate is (a key counts as its value's place)."""
    if isinstance(value, str):
        return None if _encodable(value) else at
    pairs = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in pairs:
        if isinstance(key, str) and not _encodable(key):
            return (*at, key)
        found = _lone_surrogate(item, (*at, key))
        if found is not None:
            return found
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def problem(body: str) -> tuple[int, str, str] | None:
    """(status, message, field) when the body must be refused, else None."""
    if len(body.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        return 413, f"the body is larger than {MAX_BODY_BYTES} bytes", "body"
    depth = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub('""', body)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_DEPTH:
            return 400, f"the body nests deeper than {MAX_DEPTH} levels", "body"
    try:
        parsed = json.loads(body, object_pairs_hook=_unique, parse_int=_integer)
    except _Refused as refused:
        return refused.answer
    except ValueError:
        return None  # not JSON: the app answers that, in its own words
    if _SURROGATE.search(body):  # rare: only then is the parsed body walked (a pair is fine)
        where = _lone_surrogate(parsed, ())
        if where is not None:
            return 422, "a lone surrogate (U+D800-U+DFFF) is not Unicode text", field_path(where) or "body"
    return None


def header_problem(headers: dict[str, Any] | None) -> tuple[int, str, str] | None:
    """(status, message, field) when the actor header (caller.HEADER) holds a control character: it is
    stored as the ledger's and the audit's actor, free text refused like any (422 naming the header)."""
    named = {str(k).lower(): v for k, v in (headers or {}).items()}.get(caller.HEADER)
    if isinstance(named, str) and not re.fullmatch(PRINTABLE, named.strip()):
        return 422, f"the {caller.HEADER} header must not contain control characters", caller.HEADER
    return None
