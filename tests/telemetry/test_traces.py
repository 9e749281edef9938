"""Auto-instrumentation: one API request yields a server span with its database and Redis work
as children, in one trace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from service.app import create_app
from tests.conftest import Backend
from tests.factories import agent_body, create, store_body


@pytest.fixture
async def traced_client(
    backend: Backend, clean_db: None, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    app = create_app(backend.settings())
    exporter = InMemorySpanExporter()
    app.state.telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
            yield client, exporter


@pytest.mark.backends("postgres")  # the backend with both a database and Redis
async def test_request_trace_has_database_and_redis_children(
    traced_client: tuple[httpx.AsyncClient, InMemorySpanExporter],
) -> None:
    client, exporter = traced_client
    await create(client, "/api/stores", store_body())
    await create(client, "/api/agents", agent_body())
    exporter.clear()

    response = await client.get("/api/agents/hobbygames-new")
    assert response.json()["pages_today"] == 0

    finished = exporter.get_finished_spans()
    (server,) = [s for s in finished if s.kind is SpanKind.SERVER]
    assert server.name == "GET /api/agents/{agent_id}"
    assert server.attributes["http.route"] == "/api/agents/{agent_id}"
    # Background health checks and gauge refreshes trace their own queries in other traces.
    spans = [s for s in finished if s.context.trace_id == server.context.trace_id]
    children = [s for s in spans if s is not server]
    database = [s for s in children if s.attributes.get("db.system") == "postgresql"]
    redis = [s for s in children if s.attributes.get("db.system") == "redis"]
    assert database, [s.name for s in children]
    assert redis, [s.name for s in children]
    for span in database + redis:
        assert span.kind is SpanKind.CLIENT
        assert span.parent is not None
        assert span.parent.span_id == server.context.span_id
    assert not [s for s in spans if s.name.endswith(("http send", "http receive"))]


async def test_metrics_and_health_routes_are_not_traced(
    traced_client: tuple[httpx.AsyncClient, InMemorySpanExporter],
) -> None:
    client, exporter = traced_client
    exporter.clear()
    for path in ("/healthz", "/api/metrics/prometheus", "/api/metrics/health"):
        assert (await client.get(path)).status_code == 200
    servers = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert servers == []
    await client.get("/api/games")
    assert [s.name for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER] == [
        "GET /api/games"
    ]


async def test_default_sampler_is_parent_based_ten_percent(
    backend: Backend, clean_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_TRACES_SAMPLER", raising=False)
    app = create_app(backend.settings())
    sampler = app.state.telemetry.tracer_provider.sampler
    assert "ParentBased" in sampler.get_description()
    assert "TraceIdRatioBased{0.1}" in sampler.get_description()
    app.state.telemetry.shutdown()


async def test_tracing_can_be_switched_off(backend: Backend, clean_db: None) -> None:
    app = create_app(backend.settings(tracing_enabled=False))
    assert app.state.telemetry.tracer_provider is None
    assert app.state.telemetry.meter_provider is not None
    app.state.telemetry.shutdown()


@pytest.mark.backends("sqlite")
async def test_server_spans_are_named_without_a_second_route_match(
    traced_client: tuple[httpx.AsyncClient, InMemorySpanExporter],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import opentelemetry.instrumentation.fastapi as fastapi_instrumentation

    def no_scan(scope: object) -> None:
        raise AssertionError("the instrumentation matched routes again")

    monkeypatch.setattr(fastapi_instrumentation, "_get_route_details", no_scan)
    client, exporter = traced_client
    exporter.clear()
    assert (await client.get("/api/games/12345")).status_code == 404
    assert (await client.get("/no/such/path")).status_code == 404
    assert (await client.request("FOO", "/api/games")).status_code == 405
    names = [
        (s.name, s.attributes.get("http.route"))
        for s in exporter.get_finished_spans()
        if s.kind is SpanKind.SERVER
    ]
    assert names == [
        ("GET /api/games/{game_id}", "/api/games/{game_id}"),
        ("GET", None),  # no route matched: the method alone, as the instrumentation names it
        ("HTTP /api/games", "/api/games"),
    ]
