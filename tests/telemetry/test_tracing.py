"""The traced helper: decorator and context manager, sync and async, status and exceptions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from telemetry.tracing import AGENT_ID, STORE_ID, bind_tracer_provider, traced


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    bind_tracer_provider(provider)
    yield exporter
    bind_tracer_provider(None)
    provider.shutdown()


def test_decorator_on_sync_function(spans: InMemorySpanExporter) -> None:
    @traced("agent.parse", {AGENT_ID: "hobbygames"})
    def parse(text: str) -> int:
        return len(text)

    assert parse("abc") == 3
    (span,) = spans.get_finished_spans()
    assert span.name == "agent.parse"
    assert span.attributes == {AGENT_ID: "hobbygames"}
    assert span.status.status_code is StatusCode.UNSET


async def test_decorator_on_coroutine_nests_children(spans: InMemorySpanExporter) -> None:
    @traced("agent.fetch")
    async def fetch() -> str:
        return "page"

    @traced("agent.run", {STORE_ID: "lavkaigr"})
    async def run() -> str:
        return await fetch()

    assert await run() == "page"
    fetch_span, run_span = spans.get_finished_spans()
    assert (fetch_span.name, run_span.name) == ("agent.fetch", "agent.run")
    assert fetch_span.parent is not None
    assert fetch_span.parent.span_id == run_span.context.span_id
    assert fetch_span.context.trace_id == run_span.context.trace_id


def test_exception_sets_error_and_propagates(spans: InMemorySpanExporter) -> None:
    with pytest.raises(ValueError, match="bad price"), traced("pipeline.match"):
        raise ValueError("bad price")
    (span,) = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "ValueError: bad price"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "ValueError"


async def test_async_context_manager_yields_the_span(spans: InMemorySpanExporter) -> None:
    async with traced("event.create") as span:
        span.set_attribute("bgw.event.kind", "discount")
    with pytest.raises(RuntimeError):
        async with traced("notification.send"):
            raise RuntimeError("smtp down")
    created, sent = spans.get_finished_spans()
    assert created.attributes["bgw.event.kind"] == "discount"
    assert sent.status.status_code is StatusCode.ERROR


def test_unbound_records_nothing() -> None:
    bind_tracer_provider(None)

    @traced("noop")
    def work() -> int:
        return 1

    assert work() == 1  # no provider, no error
