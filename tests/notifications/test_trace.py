"""One agent run, one trace, through to delivery: agent.run → … → event.create, then
rules.evaluate → notification.send (sent later by the dispatcher, in the same trace)."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from service.app import create_app
from tests.agents_fixtures import html_agent
from tests.conftest import Backend
from tests.factories import create, game_body, rule_body, store_body
from tests.notifications.providers import FakeHTTPProvider
from tests.shop import FakeShop, Reply


@pytest.mark.backends("sqlite")
async def test_delivery_joins_the_agent_runs_trace(
    backend: Backend,
    clean_db: None,
    shop: FakeShop,
    webhook: FakeHTTPProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    app = create_app(backend.settings(embedded_worker=False, webhook_url=f"{webhook.url}/h"))
    exporter = InMemorySpanExporter()
    app.state.telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
            await create(client, "/api/stores", store_body())
            await create(client, "/api/games", game_body(title="Азул", synonyms=[], bgg_id=None))
            await create(
                client,
                "/api/rules",
                rule_body(
                    conditions=[{"field": "game", "op": "contains", "value": "Азул"}],
                    channels=["webhook"],
                ),
            )
            shop.routes["/catalog/new?page=2"] = Reply(404)
            await create(client, "/api/agents", html_agent(shop))
            result = await app.state.agents.runner.run("hobbygames-new")
            assert result is not None
            assert result.events_created == 1
            assert await app.state.notifications.dispatcher.dispatch_due() == 1

    spans = exporter.get_finished_spans()
    (root,) = [s for s in spans if s.name == "agent.run"]
    trace = {s.context.span_id: s for s in spans if s.context.trace_id == root.context.trace_id}

    def chain(span) -> list[str]:
        names = [span.name]
        while span.parent is not None:
            span = trace[span.parent.span_id]
            names.append(span.name)
        return names[::-1]

    (send,) = [s for s in trace.values() if s.name == "notification.send"]
    assert chain(send) == ["agent.run", "rules.evaluate", "notification.send"]
    assert {"agent.fetch", "agent.parse", "pipeline.match", "pipeline.dedup", "event.create"} <= {
        s.name for s in trace.values()
    }
    assert send.attributes["bgw.channel"] == "webhook"
    # The webhook POST itself is a client span under the send.
    posts = [s for s in trace.values() if s.parent and s.parent.span_id == send.context.span_id]
    assert [s.kind.name for s in posts] == ["CLIENT"]
    assert len(webhook.accepted) == 1
