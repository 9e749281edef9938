"""Time the Prometheus exposition for a realistic series count.

The catalog is bound by ``setup_telemetry`` (metrics only), then filled with 50 route templates
× 4 methods × 4 statuses on ``api_requests_total`` and ``api_response_time_seconds``, and 20
agents on the agent metrics (runs by status, pages, duration, daily pages used and cap).
``PrometheusBridge.render(None)`` — collection from the SDK plus text encoding, what one scrape
of ``/api/metrics/prometheus`` costs — is then timed many times.

``python -m bench.render [--runs N] [--latency-without-status]`` prints one JSON object. The flag
is a what-if: the histogram labelled by method and route only (the counter keeps the status).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from bench.apps import BenchSettings

ROUTES = 50
METHODS = ("GET", "POST", "PATCH", "DELETE")
STATUSES = ("200", "201", "404", "500")
AGENTS = 20
AGENT_STATUSES = ("started", "success", "error", "skipped")


def fill(latency_by_status: bool = True) -> None:
    """Record one sample on every series of the scenario."""
    from telemetry import instruments as i

    for route in range(ROUTES):
        for method in METHODS:
            for status in STATUSES:
                route_labels = {"method": method, "endpoint": f"/api/r{route:02d}/{{id}}"}
                labels = {**route_labels, "status": status}
                i.API_REQUESTS.add(1, labels)
                i.API_RESPONSE_TIME.record(0.012, labels if latency_by_status else route_labels)
    for agent in range(AGENTS):
        agent_id = {"agent_id": str(agent + 1)}
        for status in AGENT_STATUSES:
            i.AGENT_RUNS.add(1, {**agent_id, "status": status})
        i.AGENT_PAGES_FETCHED.add(25, agent_id)
        i.AGENT_DURATION.record(42.0, agent_id)
        i.AGENT_DAILY_PAGES_USED.set(25, agent_id)
        i.AGENT_DAILY_PAGES_CAP.set(100, agent_id)
    i.ACTIVE_AGENTS.set(AGENTS)


def measure(runs: int, latency_by_status: bool = True) -> dict[str, Any]:
    from telemetry import setup_telemetry

    telemetry = setup_telemetry(BenchSettings(tracing_enabled=False), role="api")
    try:
        fill(latency_by_status)
        start = time.perf_counter()
        body, _ = telemetry.bridge.render(None)  # the first render also fills any caches
        first_ms = (time.perf_counter() - start) * 1e3
        times_ms = []
        for _ in range(runs):
            start = time.perf_counter()
            telemetry.bridge.render(None)
            times_ms.append((time.perf_counter() - start) * 1e3)
    finally:
        telemetry.shutdown()
    samples = [line for line in body.decode().splitlines() if line and not line.startswith("#")]
    return {
        "runs": runs,
        "first_ms": first_ms,
        "median_ms": statistics.median(times_ms),
        "p90_ms": statistics.quantiles(times_ms, n=10)[-1],
        "min_ms": min(times_ms),
        "samples": len(samples),
        "bytes": len(body),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--latency-without-status", action="store_true")
    args = parser.parse_args()
    print(json.dumps(measure(args.runs, latency_by_status=not args.latency_without_status)))


if __name__ == "__main__":
    main()
