"""Reading the catalog's current values back, for humans (``/api/metrics/stats``): totals of a
counter and quantiles of a histogram, computed as PromQL's ``histogram_quantile`` does."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry.sdk.metrics.export import MetricsData


def _points(data: MetricsData | None, otel_name: str) -> Iterator[Any]:
    if data is None:
        return
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name == otel_name:
                    yield from metric.data.data_points


def counter_total(data: MetricsData | None, otel_name: str) -> float:
    """The sum of a counter over all its series."""
    return float(sum(point.value for point in _points(data, otel_name)))


def histogram_buckets(data: MetricsData | None, otel_name: str) -> dict[float, float]:
    """Cumulative bucket counts by upper bound, summed over all series of a histogram."""
    buckets: dict[float, float] = defaultdict(float)
    for point in _points(data, otel_name):
        cumulative = 0
        for bound, count in zip(
            (*point.explicit_bounds, math.inf), point.bucket_counts, strict=False
        ):
            cumulative += count
            buckets[float(bound)] += cumulative
    return dict(buckets)


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """The q-quantile by linear interpolation within the bucket that holds it; None when the
    histogram is empty. Like PromQL, a quantile in the +Inf bucket is the highest finite bound."""
    if not buckets:
        return None
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total == 0:
        return None
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound
