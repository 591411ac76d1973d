"""Program documents and the operators' view of the scheduled engine: a thin adapter over the core layer's routes."""

from loyalty.http import drafts, operations, programs
from loyalty.http.app import build, lambda_handler

app = build(programs.router, drafts.router, operations.router)
handler = lambda_handler(app)
