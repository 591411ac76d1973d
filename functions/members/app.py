"""Member view, ledger and coupon wallet, and the members list: a thin adapter over the core layer's routes."""

from loyalty.http import audience, reads
from loyalty.http.app import build, lambda_handler

app = build(reads.router, audience.router)
handler = lambda_handler(app)
