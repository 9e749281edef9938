"""Credentials that live in URLs (a Telegram bot token, a Slack webhook path) kept out of spans.

The httpx instrumentation records each request's full URL. Code that sends to such a URL
registers its secret prefix once; client spans then show ``<redacted>`` in its place::

    hide_url_prefix("https://api.telegram.org/bot123:ABC")
    # span attribute: https://api.telegram.org/<redacted>/sendMessage
"""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry.trace import Span

REDACTED = "<redacted>"
URL_ATTRIBUTES = ("http.url", "url.full")

_prefixes: set[str] = set()
_lock = threading.Lock()


def hide_url_prefix(prefix: str) -> None:
    with _lock:
        _prefixes.add(prefix)


def redact_url(url: str) -> str:
    for prefix in _prefixes:
        if url.startswith(prefix):
            scheme_host = prefix.split("/", 3)[:3]
            return "/".join(scheme_host) + "/" + REDACTED + url[len(prefix) :]
    return url


def redact_request_url(span: Span, request: Any) -> None:
    """httpx instrumentation ``request_hook``: rewrite the recorded URL when it holds a secret."""
    if not _prefixes or not span.is_recording():
        return
    url = str(request.url)
    redacted = redact_url(url)
    if redacted == url:
        return
    attributes = getattr(span, "attributes", None) or {}
    for key in URL_ATTRIBUTES:
        if key in attributes:
            span.set_attribute(key, redacted)
