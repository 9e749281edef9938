"""Reading the catalog's current values back from the Prometheus bridge, for humans
(``/api/metrics/stats``): totals of a counter and quantiles of a histogram, computed as
PromQL's ``histogram_quantile`` does."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping

from prometheus_client import CollectorRegistry


def counter_total(registry: CollectorRegistry, name: str) -> float:
    """The sum of a counter over all its series (``name`` as exposed, with ``_total``)."""
    return sum(
        sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == name
    )


def histogram_buckets(registry: CollectorRegistry, name: str) -> dict[float, float]:
    """Cumulative bucket counts by upper bound, summed over all series of a histogram."""
    buckets: dict[float, float] = defaultdict(float)
    for family in registry.collect():
        for sample in family.samples:
            if sample.name == f"{name}_bucket":
                buckets[float(sample.labels["le"])] += sample.value
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
