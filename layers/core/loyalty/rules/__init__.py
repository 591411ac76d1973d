"""Business rules: pure functions over pydantic models. Nothing here touches boto3 or the clock."""
