"""API metrics: ``api_requests_total`` and ``api_response_time_seconds`` from a pure ASGI
middleware, labelled by method, route template and status.

The endpoint label is the template of the route that handled the request
(``/api/games/{game_id}``), read from the scope after routing — no second route match. Requests
that no route handled (404s, trailing-slash redirects) are ``unmatched``, and methods outside
the standard set are ``other``: random paths, methods or Host headers cannot add series.
"""

from __future__ import annotations

import time
from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from telemetry.instruments import API_REQUESTS, API_RESPONSE_TIME
from telemetry.server_spans import name_server_span

UNMATCHED = "unmatched"
OTHER_METHOD = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ApiMetricsMiddleware:
    def __init__(self, app: ASGIApp, excluded_endpoints: Collection[str] = ()) -> None:
        self.app = app
        self.excluded = frozenset(excluded_endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start = time.perf_counter()
        status = 500  # what the server answers when the app raises before responding

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Routing is done and the server span still open: give it the route now.
                route = scope.get("route")
                if route is not None:
                    name_server_span(scope["method"], route.path)
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = scope.get("route")
            endpoint = getattr(route, "path", None) or UNMATCHED
            method = scope["method"]
            if endpoint not in self.excluded:
                attributes = {
                    "method": method if method in METHODS else OTHER_METHOD,
                    "endpoint": endpoint,
                    "status": str(status),
                }
                API_REQUESTS.add(1, attributes)
                API_RESPONSE_TIME.record(time.perf_counter() - start, attributes)
