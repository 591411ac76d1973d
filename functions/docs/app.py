"""Placeholder until the core routes land."""


def handler(event: dict, context: object) -> dict:
    return {"statusCode": 501}
