"""Benchmarks: `make bench` (python -m bench). Figures go in the README; nothing here is a test."""
