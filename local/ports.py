"""The local runtime's ports, read the same way by `python -m local` and `python -m local.invoke`."""

from __future__ import annotations

import os
from collections.abc import Mapping


def api_port(env: Mapping[str, str] = os.environ) -> int:
    return int(env.get("API_PORT") or 3000)


def lambda_port(env: Mapping[str, str] = os.environ) -> int:
    """LAMBDA_PORT, else the port after the HTTP API's: a runtime moved with API_PORT alone moves its Invoke
    API too (no clash with one already on 3001), and `local.invoke` given the same API_PORT finds it."""
    return int(env.get("LAMBDA_PORT") or api_port(env) + 1)


def ddb_port(env: Mapping[str, str] = os.environ) -> int:
    return int(env.get("DDB_PORT") or 8000)
