"""Views: seconds-sized buckets for every duration, and each instrument's catalog labels only."""

from __future__ import annotations

from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View

from telemetry.instruments import CATALOG, METER_NAME, Instrument, Kind


def catalog_views() -> list[View]:
    """One view per catalog instrument. The attribute allow-list drops any label that is not in
    the catalog, so a stray attribute can never grow a series set."""
    return [_view(instrument) for instrument in CATALOG]


def _view(instrument: Instrument) -> View:
    aggregation = None
    if instrument.kind is Kind.HISTOGRAM:
        aggregation = ExplicitBucketHistogramAggregation(boundaries=instrument.buckets)
    return View(
        instrument_name=instrument.otel_name,
        meter_name=METER_NAME,
        attribute_keys=set(instrument.labels),
        aggregation=aggregation,
    )
