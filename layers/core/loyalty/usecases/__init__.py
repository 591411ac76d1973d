"""Use cases: read the aggregate, apply pure rules, write once. Adapters call these and nothing below."""
