"""The Prometheus bridge: the catalog's metrics rendered in the Prometheus text format (0.0.4) or
OpenMetrics, served by the API's own route — no extra port, no second HTTP server.

Its reader is one more pull reader on the MeterProvider; each scrape collects and renders
(``telemetry/exposition.py``). A development reset replaces the provider and the bridge, so
everything starts from zero.
"""

from __future__ import annotations

from opentelemetry.sdk.metrics.export import MetricsData

from telemetry.exposition import (
    OPENMETRICS_CONTENT_TYPE,
    TEXT_CONTENT_TYPE,
    Renderer,
    SnapshotReader,
)


class PrometheusBridge:
    def __init__(self) -> None:
        self.reader = SnapshotReader()
        self._renderer = Renderer()

    def snapshot(self) -> MetricsData | None:
        """Collect now; what a scrape would show."""
        return self.reader.snapshot()

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The exposition and its content type, negotiated from the Accept header."""
        openmetrics = "application/openmetrics-text" in (accept or "")
        body = self._renderer.render(self.snapshot(), openmetrics=openmetrics)
        return body, OPENMETRICS_CONTENT_TYPE if openmetrics else TEXT_CONTENT_TYPE
