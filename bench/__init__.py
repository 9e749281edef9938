"""Benchmarks of BGW's telemetry: ``python -m bench.run`` (see docs/performance.md)."""
