"""A local web server for tests: replies by path (GET, or POST with the body kept), robots.txt,
and failures on demand (a status, a Retry-After, a delay longer than the client's timeout). It
records every request. It stands in for shops and for the Ollama API."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.servers import free_port


@dataclass
class Reply:
    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "text/html; charset=utf-8"


Route = Reply | Callable[[], Reply]


class FakeShop:
    def __init__(self) -> None:
        self.port = free_port()
        self.routes: dict[str, Route | list[Route]] = {"/robots.txt": Reply(404)}
        self.requests: list[tuple[float, str]] = []
        self.bodies: list[bytes] = []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                shop.bodies.append(self.rfile.read(length))
                self.do_GET()

            def do_GET(self) -> None:
                shop.requests.append((time.monotonic(), self.path))
                reply = shop._reply(self.path)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", reply.content_type)
                    self.send_header("content-length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> int:
        return sum(1 for _, p in self.requests if p == path)

    def _reply(self, path: str) -> Reply:
        route = self.routes.get(path, Reply(404, "not found"))
        if isinstance(route, list):  # a sequence of replies, the last one repeating
            route = route.pop(0) if len(route) > 1 else route[0]
        return route() if callable(route) else route

    def start(self) -> FakeShop:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
