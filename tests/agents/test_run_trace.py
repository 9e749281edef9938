"""One agent run is one trace: agent.run → agent.fetch (httpx) → agent.parse → pipeline.match
→ pipeline.dedup → event.create."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from service.app import create_app
from tests.agents_fixtures import html_agent
from tests.conftest import Backend
from tests.factories import create, game_body, store_body
from tests.shop import FakeShop, Reply


@pytest.fixture
async def traced_app(
    backend: Backend, clean_db: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, InMemorySpanExporter]]:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    app = create_app(backend.settings(embedded_worker=False))
    exporter = InMemorySpanExporter()
    app.state.telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
            yield app, client, exporter


@pytest.mark.backends("sqlite")
async def test_an_agent_run_is_one_trace(traced_app, shop: FakeShop) -> None:
    app, client, exporter = traced_app
    await create(client, "/api/stores", store_body())
    await create(client, "/api/games", game_body(title="Азул", synonyms=[], bgg_id=None))
    shop.routes["/catalog/new?page=2"] = Reply(404)
    await create(client, "/api/agents", html_agent(shop))
    exporter.clear()

    result = await app.state.agents.runner.run("hobbygames-new")
    assert result is not None
    assert result.events_created == 1

    spans = exporter.get_finished_spans()
    (root,) = [s for s in spans if s.name == "agent.run"]
    assert root.parent is None
    assert root.attributes["bgw.agent.id"] == "hobbygames-new"
    trace = [s for s in spans if s.context.trace_id == root.context.trace_id]
    by_id = {s.context.span_id: s for s in trace}

    def parent_name(span) -> str | None:
        return by_id[span.parent.span_id].name if span.parent else None

    names = {s.name for s in trace}
    assert {
        "agent.fetch",
        "agent.parse",
        "pipeline.match",
        "pipeline.dedup",
        "event.create",
    } <= names
    for span in trace:
        if span.name in ("agent.fetch", "agent.parse", "pipeline.match", "pipeline.dedup"):
            assert parent_name(span) == "agent.run", span.name
    (create_span,) = [s for s in trace if s.name == "event.create"]
    assert parent_name(create_span) == "pipeline.dedup"
    assert create_span.attributes["bgw.event.kind"] == "release"
    http_clients = [
        s
        for s in trace
        if s.kind is SpanKind.CLIENT and {"http.request.method", "http.method"} & set(s.attributes)
    ]
    assert http_clients, [s.name for s in trace]
    assert all(parent_name(s) == "agent.fetch" for s in http_clients)
    (failed_fetch,) = [
        s for s in trace if s.name == "agent.fetch" and s.attributes["url.full"].endswith("page=2")
    ]
    assert failed_fetch.status.status_code.name == "ERROR"
