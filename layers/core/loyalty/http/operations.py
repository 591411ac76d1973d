"""The scheduled engine as operators see it (server): GET /operations/scheduled, read-only."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from .. import workqueue
from ..runtime import store
from ..schemas import ScheduledWork
from ..usecases import scheduler
from .responses import responses

router = APIGatewayHttpRouter()


@router.get(
    "/operations/scheduled",
    summary="The planners' last runs and the queues' depths",
    description="For the operator console: each planner's last run (time, items planned) and the messages waiting "
    "and in flight on the work queue and the dead-letter queues. 1 Query + 1 GetQueueAttributes per queue.",
    tags=["operations"],
    responses=responses(),
)
def scheduled_work() -> ScheduledWork:
    return ScheduledWork.model_validate({"runs": scheduler.runs(store()), "queues": workqueue.depths()})
