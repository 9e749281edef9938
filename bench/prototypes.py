"""What-if levers: a prototype, measured next to the real thing, never used by BGW itself.

``LeanTelemetryMiddleware`` does in one pure ASGI middleware what BGW's full telemetry does with
``ApiMetricsMiddleware`` plus the tuned ``FastAPIInstrumentor``: a server span per request
(parent-based sampling, W3C context from the headers) and the catalog's two API metrics. It
differs in what it skips when a request is not sampled: no request attributes are built, no
second route match names the span (the route template is read from the scope after routing, as
the metrics already do), receive is not wrapped, and one ``send`` wrapper serves both signals.
Its spans carry the attributes BGW uses (method, route, status, path); not the full semconv set.
"""

from __future__ import annotations

import time
from collections.abc import Collection

from opentelemetry import context, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from telemetry.instruments import API_REQUESTS, API_RESPONSE_TIME
from telemetry.middleware import METHODS, OTHER_METHOD, UNMATCHED

# The only request headers the default propagators (tracecontext, baggage) read.
_PROPAGATION_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


class LeanTelemetryMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        tracer: Tracer,
        excluded_endpoints: Collection[str] = (),
        untraced_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.tracer = tracer
        self.excluded = frozenset(excluded_endpoints)
        self.untraced = untraced_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start = time.perf_counter()
        status = 500
        method = scope["method"] if scope["method"] in METHODS else OTHER_METHOD
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _PROPAGATION_HEADERS
        }
        parent = propagate.extract(carrier) if carrier else None
        span = (
            trace.INVALID_SPAN
            if scope["path"].startswith(self.untraced)
            else self.tracer.start_span(method, context=parent, kind=SpanKind.SERVER)
        )
        token = context.attach(trace.set_span_in_context(span, parent))

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        except Exception as exc:
            if span.is_recording():
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            context.detach(token)
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or UNMATCHED
            if span.is_recording():
                span.update_name(f"{method} {endpoint}")
                span.set_attributes(
                    {
                        "http.request.method": method,
                        "http.route": endpoint,
                        "http.response.status_code": status,
                        "url.path": scope["path"],
                    }
                )
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            span.end()
            if endpoint not in self.excluded:
                attributes = {"method": method, "endpoint": endpoint, "status": str(status)}
                API_REQUESTS.add(1, attributes)
                API_RESPONSE_TIME.record(time.perf_counter() - start, attributes)
