"""Environment every test shares: no real AWS, no tracing daemon, local region."""

import os

os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "LoyaltyTest",
        "POWERTOOLS_SERVICE_NAME": "loyalty",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "PROGRAM_CACHE_TTL_SECONDS": "0",
        "TABLE_NAME": "LoyaltyTable",
    }
)
