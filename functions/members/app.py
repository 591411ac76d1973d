"""Member view, ledger and coupon wallet: a thin adapter over the core layer's routes."""

from loyalty.http import reads
from loyalty.http.app import build, lambda_handler

app = build(reads.router)
handler = lambda_handler(app)
