"""The OpenAPI document (GET /openapi.json) and Swagger UI (GET /docs), generated from the routes."""

from loyalty.http import docs
from loyalty.http.app import lambda_handler

app = docs.app()
handler = lambda_handler(app)
