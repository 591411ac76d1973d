"""The one-off index migrations, invoked by an operator after a deploy: the DUE index's
(usecases/migrate.py) with `{}`, the audience index's (usecases/audiences.migrate) with
`{"index": "audience"}`; then the same with the `cursor` of each answer until it says `"done": true`."""

from __future__ import annotations

from typing import Any

from .. import ready
from ..runtime import logger, store
from ..usecases import audiences, migrate
from . import Handler


def migrator() -> Handler:
    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        event = event or {}
        run = audiences.migrate if event.get("index") == "audience" else migrate.run
        result = run(store(), lambda: context.get_remaining_time_in_millis() / 1000, event.get("cursor"))
        logger.info("migrated", extra={k: v for k, v in result.items() if k != "cursor"})
        return result

    return ready(handler)
