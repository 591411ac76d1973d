"""Create the template's tables on any DynamoDB endpoint (moto or DynamoDB Local), as the runtime does."""

from __future__ import annotations

from typing import Any

from local.dynamodb import create_tables_from_template
from local.template import load_template


def create_tables(client: Any) -> None:
    create_tables_from_template(client, load_template())
