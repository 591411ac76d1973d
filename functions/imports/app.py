"""Bulk import (server routes): a thin adapter over the core layer's routes."""

from loyalty.http import imports
from loyalty.http.app import build, lambda_handler

app = build(imports.router)
handler = lambda_handler(app)
