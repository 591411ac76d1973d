from typing import Any


def create_tables(client: Any) -> None:  # TEMPORARY until local.dynamodb lands
    client.create_table(
        TableName="LoyaltyTable",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        BillingMode="PAY_PER_REQUEST",
    )
