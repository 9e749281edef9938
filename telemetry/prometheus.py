"""The Prometheus bridge: the catalog's metrics rendered in the Prometheus text format (0.0.4) or
OpenMetrics, served by the API's own route — no extra port, no second HTTP server.

The bridge keeps a private registry, so nothing else in the process (no default collector)
appears in the exposition, and a development reset can start from an empty one.
"""

from __future__ import annotations

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder


class PrometheusBridge:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # Scope labels (otel_scope_*) would add three labels to every series that nobody queries;
        # target_info stays: it carries the resource (service, version, instance) for joins.
        self.reader = PrometheusMetricReader(scope_info_enabled=False, registry=self.registry)

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The exposition and its content type, negotiated from the Accept header."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type
