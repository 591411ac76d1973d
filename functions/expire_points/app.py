"""ExpirePointsFunction: the scheduled points sweep (expiry and expiry reminders)."""

from loyalty.jobs import scheduled_handler
from loyalty.usecases import sweeps

handler = scheduled_handler(sweeps.points)
