"""The local runtime behind `make dev`: template.yaml served with no Docker and no AWS account."""
