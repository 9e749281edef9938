"""OTLP export to a collector, when one is configured, with the outcome of each export recorded
for the health check. Exports run on background threads: a collector that is down never blocks a
request, it only makes ``otlp_export`` unhealthy."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


@dataclass
class ExportState:
    ok: bool | None = None  # None: nothing exported yet
    error: str | None = None
    at: float | None = None


class ExportStatus:
    """The last outcome of OTLP export, per signal; read by the ``otlp_export`` health check."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, ExportState] = {}

    @property
    def configured(self) -> bool:
        return bool(self._states)

    def expect(self, signal: str) -> None:
        with self._lock:
            self._states.setdefault(signal, ExportState())

    def record(self, signal: str, ok: bool, error: str | None = None) -> None:
        with self._lock:
            self._states[signal] = ExportState(ok, error, time.time())

    def snapshot(self) -> dict[str, ExportState]:
        with self._lock:
            return dict(self._states)

    def failing(self) -> list[str]:
        """Signals whose last export failed, with the reason."""
        return [
            f"{signal}: {state.error or 'export failed'}"
            for signal, state in self.snapshot().items()
            if state.ok is False
        ]


class _Abandonable:
    """Shutting the inner exporter down first makes the final flush fail fast instead of
    retrying into a collector that is known to be down."""

    _inner: Any
    _closed = False

    def abandon(self) -> None:
        self._close()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._inner.shutdown()


class RecordingSpanExporter(_Abandonable, SpanExporter):
    def __init__(self, inner: SpanExporter, status: ExportStatus) -> None:
        self._inner = inner
        self._status = status
        status.expect("traces")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self._inner.export(spans)
        except Exception as exc:  # an exporter must not take the processor thread down
            self._status.record("traces", False, repr(exc))
            return SpanExportResult.FAILURE
        self._status.record("traces", result is SpanExportResult.SUCCESS, _reason(result))
        return result

    def shutdown(self) -> None:
        self._close()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)


class RecordingMetricExporter(_Abandonable, MetricExporter):
    def __init__(self, inner: MetricExporter, status: ExportStatus) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self._inner = inner
        self._status = status
        status.expect("metrics")

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        try:
            result = self._inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        except Exception as exc:
            self._status.record("metrics", False, repr(exc))
            return MetricExportResult.FAILURE
        self._status.record("metrics", result is MetricExportResult.SUCCESS, _reason(result))
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._close()


def _reason(result: object) -> str | None:
    return (
        None
        if result in (SpanExportResult.SUCCESS, MetricExportResult.SUCCESS)
        else "rejected or unreachable"
    )


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def otlp_configured(signal: str) -> bool:
    """True when the standard OTEL_* variables ask for OTLP export of ``signal``
    (``traces`` or ``metrics``)."""
    if _env(f"OTEL_{signal.upper()}_EXPORTER").lower() == "none":
        return False
    return bool(
        _env("OTEL_EXPORTER_OTLP_ENDPOINT") or _env(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
    )


def _protocol(signal: str) -> str:
    return (
        _env(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL")
        or _env("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )


def otlp_span_exporter(status: ExportStatus) -> RecordingSpanExporter:
    if _protocol("traces") == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    return RecordingSpanExporter(OTLPSpanExporter(), status)


def otlp_metric_exporter(status: ExportStatus) -> RecordingMetricExporter:
    """For a PeriodicExportingMetricReader (OTEL_METRIC_EXPORT_INTERVAL, default 60 s)."""
    if _protocol("metrics") == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    return RecordingMetricExporter(OTLPMetricExporter(), status)
