"""Program documents: a thin adapter over the core layer's routes."""

from loyalty.http import programs
from loyalty.http.app import build, lambda_handler

app = build(programs.router)
handler = lambda_handler(app)
