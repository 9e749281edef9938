"""Server spans without a second route match.

``opentelemetry-instrumentation-fastapi`` names each server span before routing, by matching the
request against every route of the app (``_get_route_details``) — on every request, sampled or
not. With BGW's ~40 routes that cost about 650 µs a request. Its ASGI middleware takes the naming
function as an option (``default_span_details``); :func:`cheap_span_details` gives it one that
uses the method only, and the API metrics middleware, which reads the route the router chose,
renames a sampled span to ``GET /api/games/{game_id}`` and sets ``http.route`` (see
:func:`name_server_span`). Spans keep the names and attributes the instrumentation would give.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE

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


def use_cheap_span_details(app: Any) -> None:
    """After ``FastAPIInstrumentor.instrument_app(app)``: hand the ASGI middleware the cheap
    naming function when the middleware stack is built."""
    instrumented_build = app.build_middleware_stack

    def build_middleware_stack() -> Any:
        stack = instrumented_build()
        layer, depth = stack, 0
        while layer is not None and depth < 32:
            if isinstance(layer, OpenTelemetryMiddleware):
                layer.default_span_details = cheap_span_details
                break
            layer, depth = getattr(layer, "app", None), depth + 1
        return stack

    app.build_middleware_stack = build_middleware_stack
