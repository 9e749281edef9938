"""Each catalog instrument, read through an in-memory reader with the catalog's views."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from telemetry import instruments
from telemetry.instruments import CATALOG, Counter, Gauge, Histogram, bind_catalog, unbind_catalog
from telemetry.views import catalog_views


@pytest.fixture
def reader() -> Iterator[InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader], views=catalog_views())
    bind_catalog(provider)
    yield reader
    unbind_catalog()
    provider.shutdown()
    for instrument in CATALOG:
        if isinstance(instrument, Gauge):
            instrument.clear()


def _points(reader: InMemoryMetricReader) -> dict[str, list]:
    data = reader.get_metrics_data()
    return {
        metric.name: list(metric.data.data_points)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }


@pytest.mark.parametrize("instrument", CATALOG, ids=lambda i: i.name)
def test_instrument_records_with_exactly_its_labels(
    reader: InMemoryMetricReader, instrument: instruments.Instrument
) -> None:
    attributes = {label: "v" for label in instrument.labels}
    if isinstance(instrument, Counter):
        instrument.add(2, attributes | {"url": "https://leak.example/x"})
    elif isinstance(instrument, Histogram):
        instrument.record(0.3, attributes | {"url": "https://leak.example/x"})
    else:
        assert isinstance(instrument, Gauge)
        instrument.set(0.75, attributes)
    points = [p for p in _points(reader)[instrument.otel_name] if dict(p.attributes) == attributes]
    assert len(points) == 1, instrument.name
    (point,) = points
    if isinstance(instrument, Counter):
        assert point.value == 2
    elif isinstance(instrument, Histogram):
        assert point.count == 1
        assert tuple(point.explicit_bounds) == instrument.buckets
    else:
        assert point.value == 0.75
    for other in _points(reader)[instrument.otel_name]:
        assert set(other.attributes) == set(instrument.labels)  # the stray `url` was dropped


def test_gauge_replace_drops_series_that_are_gone(reader: InMemoryMetricReader) -> None:
    gauge = instruments.AGENT_DAILY_PAGES_CAP
    gauge.replace([(100.0, {"agent_id": "a"}), (50.0, {"agent_id": "b"})])
    assert {p.attributes["agent_id"] for p in _points(reader)[gauge.otel_name]} == {"a", "b"}
    gauge.replace([(100.0, {"agent_id": "a"})])
    assert {p.attributes["agent_id"] for p in _points(reader)[gauge.otel_name]} == {"a"}


def test_gauge_source_is_read_at_collection(reader: InMemoryMetricReader) -> None:
    value = {"n": 1.0}
    gauge = instruments.DATABASE_CONNECTIONS_ACTIVE
    gauge.observe_with(lambda: [(value["n"], {})])
    try:
        assert _points(reader)[gauge.otel_name][0].value == 1.0
        value["n"] = 4.0
        assert _points(reader)[gauge.otel_name][0].value == 4.0
    finally:
        gauge.observe_with(None)


def test_unbound_catalog_records_nothing(reader: InMemoryMetricReader) -> None:
    instruments.AGENT_RUNS.add(1, {"agent_id": "x", "status": "started"})
    unbind_catalog()
    instruments.AGENT_RUNS.add(5, {"agent_id": "x", "status": "started"})  # goes nowhere
    (point,) = _points(reader)["agent_runs"]
    assert point.value == 1
