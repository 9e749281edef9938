"""OTLP export, against a local HTTP server that speaks OTLP/HTTP (protobuf), and the standard
OTEL_* switches."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from service.app import create_app
from tests.conftest import Backend
from tests.servers import free_port
from tests.telemetry.helpers import METRICS_PATH


class OtlpReceiver:
    """Accepts POST /v1/metrics and /v1/traces and keeps the decoded requests."""

    def __init__(self) -> None:
        self.port = free_port()
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.traces: list[ExportTraceServiceRequest] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.path == "/v1/metrics":
                    receiver.metrics.append(ExportMetricsServiceRequest.FromString(body))
                elif self.path == "/v1/traces":
                    receiver.traces.append(ExportTraceServiceRequest.FromString(body))
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OtlpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def metric_names(self) -> set[str]:
        return {
            metric.name
            for request in self.metrics
            for resource in request.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        }

    def resource(self) -> dict[str, str]:
        attributes = self.metrics[-1].resource_metrics[0].resource.attributes
        return {a.key: a.value.string_value for a in attributes}

    def span_names(self) -> set[str]:
        return {
            span.name
            for request in self.traces
            for resource in request.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        }


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as running:
        yield running


@pytest.fixture
async def exporting(
    backend: Backend, clean_db: None, receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{receiver.port}")
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "300")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    app = create_app(backend.settings(health_interval_seconds=1))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
            yield client


async def _eventually(condition, patience: float = 20.0) -> None:
    deadline = time.monotonic() + patience
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


@pytest.mark.backends("sqlite")
async def test_metrics_and_traces_reach_the_collector(
    exporting: httpx.AsyncClient, receiver: OtlpReceiver
) -> None:
    await exporting.get("/api/games")
    await _eventually(lambda: "api_requests" in receiver.metric_names())
    await _eventually(lambda: "GET /api/games" in receiver.span_names())
    names = receiver.metric_names()
    assert {"api_requests", "api_response_time_seconds", "notifications_sent"} <= names
    resource = receiver.resource()
    assert resource["service.name"] == "bgw"  # API and scheduler in one process
    assert resource["service.namespace"] == "bgw"
    assert resource["service.instance.id"]

    health = (await exporting.get("/api/metrics/health")).json()
    assert health["components"]["otlp_export"]["status"] == "ok"

    receiver.stop()  # the collector goes away: requests go on, health degrades
    for _ in range(20):
        assert (await exporting.get("/api/games")).status_code == 200

    async def degraded() -> bool:
        body = (await exporting.get("/api/metrics/health")).json()
        return (
            body["status"] == "degraded" and body["components"]["otlp_export"]["status"] == "down"
        )

    deadline = time.monotonic() + 40
    while not await degraded():
        assert time.monotonic() < deadline, "otlp_export never reported down"
        await asyncio.sleep(0.5)


@pytest.mark.backends("sqlite")
async def test_sdk_disabled_turns_telemetry_off(
    backend: Backend, clean_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    app = create_app(backend.settings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
            assert (await client.get("/api/games")).status_code == 200
            exposition = (await client.get(METRICS_PATH)).text
    assert "api_requests_total" not in exposition
    assert app.state.telemetry.tracer_provider is None
