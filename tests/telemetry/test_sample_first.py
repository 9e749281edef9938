"""Sample first: unsampled requests skip the FastAPI instrumentation's work; sampled ones get its
spans unchanged, with the trace id the sampler decided on; incoming context still decides."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Sampler
from opentelemetry.trace import SpanKind

from service.app import create_app
from telemetry.server_spans import SampleFirst
from tests.conftest import Backend
from tests.factories import create, game_body

pytestmark = pytest.mark.backends("sqlite")

REMOTE_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@dataclass
class Traced:
    app: FastAPI
    client: httpx.AsyncClient
    exporter: InMemorySpanExporter
    seen: list[dict[str, Any]]


@asynccontextmanager
async def _serving(backend: Backend, sampler: str, monkeypatch) -> AsyncIterator[Traced]:
    """The app under ``OTEL_TRACES_SAMPLER=sampler``, with a probe route that reports the span
    context and whether instrumentation is enabled where a handler runs."""
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", sampler)
    app = create_app(backend.settings(embedded_worker=False))
    exporter = InMemorySpanExporter()
    app.state.telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    seen: list[dict[str, Any]] = []

    @app.get("/api/probe")
    async def probe() -> dict[str, str]:
        context = trace.get_current_span().get_span_context()
        seen.append(
            {
                "trace_id": context.trace_id,
                "valid": context.is_valid,
                "sampled": context.trace_flags.sampled,
                "instrumentation": is_instrumentation_enabled(),
            }
        )
        return {"ok": "yes"}

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
            yield Traced(app, client, exporter, seen)


@pytest.fixture
async def unsampled(backend: Backend, clean_db: None, monkeypatch) -> AsyncIterator[Traced]:
    async with _serving(backend, "parentbased_always_off", monkeypatch) as traced:
        yield traced


@pytest.fixture
async def sampled(backend: Backend, clean_db: None, monkeypatch) -> AsyncIterator[Traced]:
    async with _serving(backend, "parentbased_always_on", monkeypatch) as traced:
        yield traced


async def test_an_unsampled_request_runs_under_a_non_recording_span_with_hooks_off(
    unsampled: Traced,
) -> None:
    await create(unsampled.client, "/api/games", game_body())
    assert (await unsampled.client.get("/api/games")).status_code == 200
    assert (await unsampled.client.get("/api/probe")).status_code == 200
    assert [s.name for s in unsampled.exporter.get_finished_spans()] == []
    (probe,) = unsampled.seen
    # A trace id as the SDK would give, not sampled, and no instrumentation hook runs under it.
    assert probe == {
        "trace_id": probe["trace_id"],
        "valid": True,
        "sampled": False,
        "instrumentation": False,
    }


async def test_a_sampled_request_gets_the_instrumentations_spans(sampled: Traced) -> None:
    await create(sampled.client, "/api/games", game_body())
    sampled.exporter.clear()
    assert (await sampled.client.get("/api/games?q=a")).status_code == 200
    spans = sampled.exporter.get_finished_spans()
    (server,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert server.name == "GET /api/games"
    assert server.attributes["http.route"] == "/api/games"
    # The instrumentation's own attribute set, built because the span is recorded.
    assert {"http.target", "http.scheme", "http.status_code"} <= set(server.attributes)
    assert server.instrumentation_scope.name == "opentelemetry.instrumentation.fastapi"
    children = [s for s in spans if s.parent and s.parent.span_id == server.context.span_id]
    assert any(s.kind is SpanKind.CLIENT for s in children), [s.name for s in spans]
    (probe_response,) = [await sampled.client.get("/api/probe")]
    assert probe_response.status_code == 200
    assert sampled.seen[-1]["sampled"] is True
    assert sampled.seen[-1]["instrumentation"] is True


async def test_incoming_context_is_decided_by_the_instrumentation(unsampled: Traced) -> None:
    # The local sampler drops roots, but a sampled remote parent wins (parent-based).
    headers = {"traceparent": f"00-{REMOTE_TRACE}-00f067aa0ba902b7-01"}
    assert (await unsampled.client.get("/api/probe", headers=headers)).status_code == 200
    (server,) = [s for s in unsampled.exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert format(server.context.trace_id, "032x") == REMOTE_TRACE
    assert server.parent.span_id == 0x00F067AA0BA902B7
    assert unsampled.seen[-1]["instrumentation"] is True


async def test_excluded_urls_stay_untraced(sampled: Traced) -> None:
    assert (await sampled.client.get("/api/metrics/health")).status_code == 200
    # (The health monitor's own background checks make root spans of their own.)
    server = [s for s in sampled.exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert server == []


class RecordingSampler(Sampler):
    """Samples everything and remembers each trace id it was asked about."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None):
        self.asked.append(trace_id)
        return ALWAYS_ON.should_sample(parent_context, trace_id, name, kind, attributes, links)

    def get_description(self) -> str:
        return "recording"


async def test_the_sdk_decides_on_the_same_trace_id(sampled: Traced) -> None:
    assert (await sampled.client.get("/api/probe")).status_code == 200  # builds the stack
    sampler = RecordingSampler()
    layer = sampled.app.middleware_stack
    while not isinstance(layer, SampleFirst):
        layer = layer.app
    layer.sampler = sampler  # what the layer asks
    layer.instrumented.tracer.sampler = sampler  # what the SDK's tracer asks
    sampled.exporter.clear()
    assert (await sampled.client.get("/api/probe")).status_code == 200
    (server,) = [s for s in sampled.exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    # Asked once by the layer, once by the SDK: the same id, and it is the span's.
    assert sampler.asked == [server.context.trace_id, server.context.trace_id]
