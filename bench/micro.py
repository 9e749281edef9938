"""Cost of one measurement on the catalog's API instruments, bound by ``setup_telemetry``.

``python -m bench.micro`` prints one JSON object: µs per ``API_REQUESTS.add`` and per
``API_RESPONSE_TIME.record`` (best of several timeit repeats), with the label set the middleware
records. Run it with ``OTEL_METRICS_EXEMPLAR_FILTER=always_off`` to see what exemplars cost.
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable

from bench.apps import BenchSettings

NUMBER = 50_000
REPEAT = 5
ATTRIBUTES = {"method": "GET", "endpoint": "/items/{item_id}", "status": "200"}


def best_us(call: Callable[[], object]) -> float:
    return min(timeit.repeat(call, number=NUMBER, repeat=REPEAT)) / NUMBER * 1e6


def main() -> None:
    from telemetry import instruments, setup_telemetry

    telemetry = setup_telemetry(BenchSettings(tracing_enabled=False), role="api")
    try:
        result = {
            "counter_add_us": best_us(lambda: instruments.API_REQUESTS.add(1, ATTRIBUTES)),
            "histogram_record_us": best_us(
                lambda: instruments.API_RESPONSE_TIME.record(0.012, ATTRIBUTES)
            ),
        }
    finally:
        telemetry.shutdown()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
