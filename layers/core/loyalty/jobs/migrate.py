"""The one-off DUE index migration (usecases/migrate.py), invoked by an operator after a deploy:
`{}` to start, then `{"cursor": ...}` from each answer until it says `"done": true`."""

from __future__ import annotations

from typing import Any

from .. import ready
from ..runtime import logger, store
from ..usecases import migrate
from . import Handler


def migrator() -> Handler:
    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        result = migrate.run(
            store(), lambda: context.get_remaining_time_in_millis() / 1000, (event or {}).get("cursor")
        )
        logger.info("migrated", extra={k: v for k, v in result.items() if k != "cursor"})
        return result

    return ready(handler)
