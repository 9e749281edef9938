"""Server spans: named without a second route match, and paid for only when sampled.

``opentelemetry-instrumentation-fastapi`` names each server span before routing, by matching the
request against every route of the app (``_get_route_details``) — on every request, sampled or
not. With BGW's ~40 routes that cost about 650 µs a request. Its ASGI middleware takes the naming
function as an option (``default_span_details``); :func:`cheap_span_details` gives it one that
uses the method only, and the API metrics middleware, which reads the route the router chose,
renames a sampled span to ``GET /api/games/{game_id}`` and sets ``http.route`` (see
:func:`name_server_span`). Spans keep the names and attributes the instrumentation would give.

Sample first (:class:`SampleFirst`). The instrumentation's middleware builds the full set of
request attributes, parses the URL and extracts context on every request before the sampler has
its say, and 90 % of requests (the default parent-based 10 %) are then not recorded at all. For a
request that brings no trace context (no ``traceparent``, ``tracestate`` or ``baggage``), the
SDK's decision depends only on a fresh trace id, so the layer in front of the middleware draws
that id from the provider's id generator and asks the provider's own sampler first:

- sampled: the request goes through the instrumentation unchanged, and
  :class:`PresetTraceIdGenerator` hands the SDK the same trace id, so the SDK's own decision
  agrees and the span is exactly the instrumentation's;
- not sampled: the request skips the instrumentation's middleware and runs under a
  non-recording span with that trace id, as the SDK would have given it, with instrumentation
  suppressed (``suppress_instrumentation``) so database, Redis and HTTP client hooks, whose spans
  could not be recorded under an unsampled parent, return at once.

Requests that carry trace context, excluded URLs and non-HTTP scopes always take the
instrumentation's own path (a remote parent decides there, as ``ParentBased`` says).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags

KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)


def cheap_span_details(scope: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The span's provisional name: the method alone (``HTTP`` for unknown methods)."""
    method = scope.get("method", "")
    return (method if method in KNOWN_METHODS else "HTTP"), {}


def name_server_span(method: str, route: str) -> None:
    """Give the current (server) span its route, if it is being recorded."""
    span = trace.get_current_span()
    if span.is_recording():
        name = method if method in KNOWN_METHODS else "HTTP"
        span.update_name(f"{name} {route}")
        span.set_attribute(HTTP_ROUTE, route)


_preset_trace_id: ContextVar[int | None] = ContextVar("bgw_preset_trace_id", default=None)

# Headers that carry incoming trace context: with any of them, the instrumentation decides.
CONTEXT_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


class PresetTraceIdGenerator(RandomIdGenerator):
    """Random ids, except a trace id :class:`SampleFirst` already drew and sampled: the next
    trace id asked for in that request's context is that one, once."""

    def generate_trace_id(self) -> int:
        preset = _preset_trace_id.get()
        if preset is not None:
            _preset_trace_id.set(None)
            return preset
        return super().generate_trace_id()


class SampleFirst:
    """ASGI layer in front of the instrumentation's ``OpenTelemetryMiddleware`` (see the module
    docstring): the provider's sampler decides before the middleware does its work."""

    def __init__(self, instrumented: OpenTelemetryMiddleware, provider: TracerProvider) -> None:
        self.instrumented = instrumented
        self.app = instrumented.app
        self.sampler = provider.sampler
        self.ids = provider.id_generator

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self._decided_by_instrumentation(scope):
            await self.instrumented(scope, receive, send)
            return
        trace_id = self.ids.generate_trace_id()
        method = scope.get("method", "")
        result = self.sampler.should_sample(Context(), trace_id, method, SpanKind.SERVER)
        if result.decision.is_recording():
            token = _preset_trace_id.set(trace_id)
            try:
                await self.instrumented(scope, receive, send)
            finally:
                _preset_trace_id.reset(token)
            return
        span = NonRecordingSpan(
            SpanContext(
                trace_id, self.ids.generate_span_id(), False, TraceFlags(TraceFlags.DEFAULT)
            )
        )
        with trace.use_span(span), suppress_instrumentation():
            await self.app(scope, receive, send)

    def _decided_by_instrumentation(self, scope: dict[str, Any]) -> bool:
        excluded = self.instrumented.excluded_urls
        if excluded is not None and excluded.url_disabled(scope.get("path", "")):
            return True
        return any(name in CONTEXT_HEADERS for name, _ in scope.get("headers", ()))


def tune_server_spans(app: Any, provider: Any) -> None:
    """After ``FastAPIInstrumentor.instrument_app(app)``: when the middleware stack is built,
    hand the instrumentation's middleware the cheap naming function, and put :class:`SampleFirst`
    in front of it when ``provider`` is the SDK's (its sampler and id generator are needed)."""
    instrumented_build = app.build_middleware_stack

    def build_middleware_stack() -> Any:
        stack = instrumented_build()
        parent, layer, depth = None, stack, 0
        while layer is not None and depth < 32:
            if isinstance(layer, OpenTelemetryMiddleware):
                layer.default_span_details = cheap_span_details
                if parent is not None and isinstance(provider, TracerProvider):
                    parent.app = SampleFirst(layer, provider)
                break
            parent, layer, depth = layer, getattr(layer, "app", None), depth + 1
        return stack

    app.build_middleware_stack = build_middleware_stack
