"""The bridge's renderer writes what the OpenTelemetry Prometheus exporter would, faster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from telemetry import instruments
from telemetry.exposition import Renderer, SnapshotReader
from telemetry.instruments import bind_catalog, unbind_catalog
from telemetry.views import catalog_views
from tests.telemetry.helpers import parse
from tests.telemetry.test_exposition import record_everything


@pytest.fixture
def both() -> Iterator[tuple[SnapshotReader, CollectorRegistry]]:
    registry = CollectorRegistry()
    official = PrometheusMetricReader(scope_info_enabled=False, registry=registry)
    ours = SnapshotReader()
    provider = MeterProvider(
        metric_readers=[official, ours],
        views=catalog_views(),
        resource=Resource.create({"service.name": "bgw-test", "weird.key": 'a"b\\c'}),
    )
    bind_catalog(provider)
    yield ours, registry
    unbind_catalog()
    provider.shutdown()


def _samples(text: str) -> set[tuple[str, str, tuple[tuple[str, str], ...], float]]:
    return {
        (family.name, family.type, tuple(sorted(labels.items())), value)
        for family in parse(text).values()
        for _, labels, value in ((s[0], s[1], s[2]) for s in family.samples)
    }


def test_text_matches_the_official_exporter(both) -> None:
    ours, registry = both
    record_everything()
    instruments.API_RESPONSE_TIME.record(12.5, {"method": "GET", "endpoint": "/x", "status": "200"})
    mine = Renderer().render(ours.snapshot()).decode()
    theirs = generate_latest(registry).decode()
    assert _samples(mine) == _samples(theirs)
    assert sorted(line for line in mine.splitlines() if line.startswith("#")) == sorted(
        line for line in theirs.splitlines() if line.startswith("#")
    )


def test_openmetrics_matches_the_official_exporter(both) -> None:
    ours, registry = both
    record_everything()
    mine = Renderer().render(ours.snapshot(), openmetrics=True).decode()
    theirs = generate_openmetrics(registry).decode()
    assert sorted(mine.splitlines()) == sorted(theirs.splitlines())


def test_label_cache_does_not_grow_for_repeated_label_sets(both) -> None:
    ours, _ = both
    renderer = Renderer()
    record_everything()
    renderer.render(ours.snapshot())
    size = len(renderer._labels)
    renderer.render(ours.snapshot())
    assert len(renderer._labels) == size
