"""Enrolment, server and member: a thin adapter over the core layer's routes."""

from loyalty.http import enrolment
from loyalty.http.app import build, lambda_handler

app = build(enrolment.router)
handler = lambda_handler(app)
