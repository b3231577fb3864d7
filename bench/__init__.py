"""Benchmarks at scale (issue 6). Run with `python -m bench.run` (see bench/README.md)."""
