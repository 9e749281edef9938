"""Local stand-ins for the notification providers, able to fail on demand.

- :class:`FakeHTTPProvider` speaks the Telegram Bot API (``/bot<token>/sendMessage``), a Slack
  incoming webhook (``ok``) or a generic webhook (2xx), and fails as scripted: a status (5xx,
  429 with Retry-After / ``retry_after``), or a stall longer than the client's timeout, after
  which it drops the request without accepting it.
- :class:`FakeSMTP` is aiosmtpd on loopback (plain, STARTTLS or SSL, with AUTH), able to answer
  4xx/5xx for scripted messages.

Both record only what they accepted, so "delivered exactly once" is a count of ``accepted``.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.servers import free_port

Flavour = Literal["telegram", "slack", "webhook"]


@dataclass
class Failure:
    """One scripted failure: answer ``status`` (with ``retry_after``), or ``stall`` seconds and
    then drop the connection."""

    status: int = 500
    retry_after: float | None = None
    stall: float = 0.0


@dataclass
class Accepted:
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class FakeHTTPProvider:
    flavour: Flavour
    port: int = field(default_factory=free_port)
    failures: deque[Failure | None] = field(default_factory=deque)  # None: accept
    accepted: list[Accepted] = field(default_factory=list)
    attempts: int = 0
    stall_all: float = 0.0  # every request stalls (a provider that hangs), until set to 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, *failures: Failure | None) -> None:
        self.failures.extend(failures)

    def bodies(self) -> list[Any]:
        return [a.body for a in self.accepted]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length)
        with self._lock:
            self.attempts += 1
            failure = self.failures.popleft() if self.failures else None
        stall = failure.stall if failure else self.stall_all
        if stall:
            time.sleep(stall)
            handler.close_connection = True
            return  # never accepted: no answer at all
        if failure is not None:
            self._reply_failure(handler, failure)
            return
        body = json.loads(raw) if raw else None
        with self._lock:
            self.accepted.append(Accepted(handler.path, body, dict(handler.headers)))
            number = len(self.accepted)
        if self.flavour == "telegram":
            reply = {"ok": True, "result": {"message_id": 1000 + number, "chat": {"id": 1}}}
            self._send(handler, 200, json.dumps(reply), "application/json")
        elif self.flavour == "slack":
            self._send(handler, 200, "ok", "text/html")
        else:
            self._send(handler, 202, "", "text/plain")

    def _reply_failure(self, handler: BaseHTTPRequestHandler, failure: Failure) -> None:
        headers = {}
        if failure.retry_after is not None:
            headers["Retry-After"] = f"{failure.retry_after:g}"
        if self.flavour == "telegram":
            reply: dict[str, Any] = {
                "ok": False,
                "error_code": failure.status,
                "description": "Too Many Requests: retry later"
                if failure.status == 429
                else "Bad Request: chat not found"
                if failure.status == 400
                else "Internal Server Error",
            }
            if failure.retry_after is not None:
                reply["parameters"] = {"retry_after": failure.retry_after}
            self._send(handler, failure.status, json.dumps(reply), "application/json", headers)
        else:
            text = "no_service" if failure.status == 404 else "server_error"
            self._send(handler, failure.status, text, "text/plain", headers)

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: str,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = body.encode()
        handler.send_response(status)
        handler.send_header("content-type", content_type)
        handler.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def start(self) -> FakeHTTPProvider:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                provider._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost made with the openssl CLI: (cert, key)."""
    cert, key = directory / "smtp.crt", directory / "smtp.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class _Recorder:
    def __init__(self, smtp: FakeSMTP) -> None:
        self.smtp = smtp

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        with self.smtp.lock:
            self.smtp.attempts += 1
            reply = self.smtp.replies.popleft() if self.smtp.replies else None
        if reply is not None:
            return reply
        with self.smtp.lock:
            self.smtp.accepted.append(envelope)
        return "250 2.0.0 OK queued as BGW" + str(len(self.smtp.accepted))


@dataclass
class FakeSMTP:
    """aiosmtpd on loopback. ``security``: none, starttls (required) or ssl; with ``password``
    AUTH is required (only over TLS, as real servers insist)."""

    directory: Path
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str | None = None
    password: str | None = None
    port: int = field(default_factory=free_port)
    accepted: list[Envelope] = field(default_factory=list)
    replies: deque[str] = field(default_factory=deque)  # scripted answers to DATA, e.g. "451 …"
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    cert: Path | None = None

    def _authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> FakeSMTP:
        context = None
        if self.security != "none":
            self.cert, key = self_signed_certificate(self.directory)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, key)
        kwargs: dict[str, Any] = {}
        if self.security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        elif self.security == "ssl":
            kwargs.update(ssl_context=context)
        if self.password is not None:
            # Only reachable over TLS here (the fake refuses plain AUTH set-ups below), so
            # aiosmtpd's own TLS check, which does not see implicit TLS, is not needed.
            if self.security == "none":
                raise ValueError("AUTH without TLS: real servers refuse it")
            kwargs.update(
                authenticator=self._authenticate, auth_required=True, auth_require_tls=False
            )
        else:
            kwargs.update(auth_require_tls=False)
        # aiosmtpd warns "Requiring AUTH while not requiring TLS" per connection: it is TLS,
        # implicit or STARTTLS (see above); pyproject's filterwarnings silences it.
        self._controller = Controller(
            _Recorder(self), hostname="127.0.0.1", port=self.port, **kwargs
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
