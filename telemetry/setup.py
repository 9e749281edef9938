"""The telemetry entry point: ``setup_telemetry(settings, role)`` → :class:`Telemetry`.

What it configures:

- a MeterProvider with the catalog's views and two readers: the Prometheus bridge (served by
  the API at ``/api/metrics/prometheus``) and, when ``OTEL_EXPORTER_OTLP_*`` asks for it, a
  periodic OTLP exporter;
- a TracerProvider (sampler from ``OTEL_TRACES_SAMPLER``, default parent-based 10 %) with a
  batch OTLP exporter when configured;
- the catalog bound to that MeterProvider, and ``traced`` to that TracerProvider.

Auto-instrumentation of FastAPI, SQLAlchemy, Redis and httpx is applied through the handle
(``instrument_app``, ``instrument_engine``), and undone by ``shutdown``. ``OTEL_SDK_DISABLED=true``
turns all of it into no-ops.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.environment_variables import OTEL_SDK_DISABLED, OTEL_TRACES_SAMPLER
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased

from telemetry.export import (
    ExportStatus,
    RecordingMetricExporter,
    RecordingSpanExporter,
    otlp_configured,
    otlp_metric_exporter,
    otlp_span_exporter,
)
from telemetry.instruments import bind_catalog, unbind_catalog
from telemetry.prometheus import PrometheusBridge
from telemetry.resource import Role, build_resource
from telemetry.server_spans import PresetTraceIdGenerator, tune_server_spans
from telemetry.tracing import bind_tracer_provider
from telemetry.views import catalog_views

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_RATIO = 0.1


class TelemetrySettings(Protocol):
    """What telemetry reads from the service's settings (``service.config.Settings`` has it)."""

    env: str
    service_version: str
    tracing_enabled: bool


@dataclass
class Telemetry:
    """A handle on the configured providers; ``shutdown`` flushes and undoes everything."""

    role: Role
    resource: Resource
    enabled: bool
    tracing_enabled: bool
    bridge: PrometheusBridge
    export_status: ExportStatus
    meter_provider: MeterProvider | None = None
    tracer_provider: TracerProvider | None = None
    _instrumented: list[Any] = field(default_factory=list, repr=False)
    _exporters: list[RecordingSpanExporter | RecordingMetricExporter] = field(
        default_factory=list, repr=False
    )
    _closed: bool = False

    # -- metrics --------------------------------------------------------------------------------

    def _start_metrics(self) -> None:
        readers: list[MetricReader] = [self.bridge.reader]
        if otlp_configured("metrics"):
            exporter = otlp_metric_exporter(self.export_status)
            self._exporters.append(exporter)
            readers.append(PeriodicExportingMetricReader(exporter))
        self.meter_provider = MeterProvider(
            metric_readers=readers, resource=self.resource, views=catalog_views()
        )
        bind_catalog(self.meter_provider)

    def reset_metrics(self) -> None:
        """Start every counter and histogram again from zero (development only: Prometheus sees
        a counter reset). Gauges keep their current values."""
        if not self.enabled:
            return
        old = self.meter_provider
        self.bridge = PrometheusBridge()
        self._start_metrics()
        if old is not None:
            old.shutdown()

    # -- auto-instrumentation -------------------------------------------------------------------

    def instrument_app(self, app: Any, excluded_urls: str) -> None:
        """Server spans for a FastAPI app. Its own HTTP metrics go to a no-op provider: the
        catalog's middleware measures requests more cheaply and with bounded labels. Span names
        come from the router's choice, not a second route match (``server_spans``)."""
        if not self.tracing_enabled:
            return
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=self.tracer_provider,
            meter_provider=NoOpMeterProvider(),
            excluded_urls=excluded_urls,
            exclude_spans=["receive", "send"],
        )
        tune_server_spans(app, self.tracer_provider)
        self._instrumented.append(lambda: FastAPIInstrumentor.uninstrument_app(app))

    def instrument_engine(self, engine: Any) -> None:
        """Client spans for every statement on a SQLAlchemy (sync or async) engine."""
        if not self.tracing_enabled:
            return
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        instrumentor = SQLAlchemyInstrumentor()
        instrumentor.instrument(
            engine=getattr(engine, "sync_engine", engine),
            tracer_provider=self.tracer_provider,
            meter_provider=NoOpMeterProvider(),
            enable_commenter=False,
        )
        self._instrumented.append(instrumentor.uninstrument)

    def instrument_clients(self) -> None:
        """Client spans for Redis commands and httpx requests (agents' fetches, health checks)."""
        if not self.tracing_enabled:
            return
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        from telemetry.redaction import redact_request_url

        providers = {"tracer_provider": self.tracer_provider, "meter_provider": NoOpMeterProvider()}
        redis, httpx = RedisInstrumentor(), HTTPXClientInstrumentor()
        redis.instrument(**providers)
        self._instrumented.append(redis.uninstrument)
        httpx.instrument(
            **providers,
            request_hook=redact_request_url,
            async_request_hook=_async_hook(redact_request_url),
        )
        self._instrumented.append(httpx.uninstrument)

    # -- lifecycle ------------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Flush what is buffered, undo instrumentation, stop recording. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        while self._instrumented:
            undo = self._instrumented.pop()
            try:
                undo()
            except Exception:  # one failing uninstrumentation must not stop the others
                log.exception("uninstrumenting failed")
        unbind_catalog()
        bind_tracer_provider(None)
        if self.export_status.failing():
            # The collector did not take the last export: the final flush would only retry
            # into it for the exporters' whole timeout, holding up the stop.
            for exporter in self._exporters:
                exporter.abandon()
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown()


# FastAPI's own OpenTelemetry integration (``FastAPI(telemetry=...)``), for apps whose spans come
# from opentelemetry-instrumentation-fastapi with explicit providers, as BGW's do: off, so that
# global providers set by someone else never double the server spans, and its per-request
# provider check (≈ 5 µs here) is not paid.
FASTAPI_NATIVE_TELEMETRY_OFF: dict[str, bool] = {"tracing": False, "metrics": False, "logs": False}


def default_sampler() -> Sampler | None:
    """Parent-based 10 % unless OTEL_TRACES_SAMPLER says otherwise (None lets the SDK read it)."""
    if os.environ.get(OTEL_TRACES_SAMPLER):
        return None
    return ParentBased(TraceIdRatioBased(DEFAULT_SAMPLE_RATIO))


def setup_telemetry(settings: TelemetrySettings, role: Role) -> Telemetry:
    enabled = os.environ.get(OTEL_SDK_DISABLED, "").strip().lower() != "true"
    telemetry = Telemetry(
        role=role,
        resource=build_resource(role, settings.service_version, settings.env),
        enabled=enabled,
        tracing_enabled=enabled and settings.tracing_enabled,
        bridge=PrometheusBridge(),
        export_status=ExportStatus(),
    )
    if not enabled:
        return telemetry
    telemetry._start_metrics()
    if telemetry.tracing_enabled:
        provider = TracerProvider(
            resource=telemetry.resource,
            sampler=default_sampler(),
            id_generator=PresetTraceIdGenerator(),
        )
        if otlp_configured("traces"):
            provider.add_span_processor(
                BatchSpanProcessor(otlp_span_exporter(telemetry.export_status))
            )
        telemetry.tracer_provider = provider
        bind_tracer_provider(provider)
    return telemetry


def _async_hook(hook: Callable[..., None]) -> Callable[..., Awaitable[None]]:
    async def async_hook(*args: object) -> None:
        hook(*args)

    return async_hook
