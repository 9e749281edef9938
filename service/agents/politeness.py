"""Being a good guest: robots.txt, a request rate per agent, and backoff when a site struggles."""

from __future__ import annotations

import asyncio
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

ROBOTS_TTL = 3600.0
ROBOTS_RETRY_TTL = 300.0
MAX_RETRY_AFTER = 120.0


class TokenBucket:
    """``rps`` requests per second on average, up to ``burst`` at once."""

    def __init__(self, rps: float, burst: int) -> None:
        self.rps = rps
        self.capacity = float(burst)
        self._tokens = float(burst)
        self._updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rps)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rps)


class RobotsCache:
    """robots.txt per site, cached for an hour. As RFC 9309 says: a missing file (4xx) allows
    everything; a server error or no answer disallows everything until it is fetched again."""

    def __init__(self, client: httpx.AsyncClient, user_agent: str) -> None:
        self.client = client
        self.user_agent = user_agent
        self._rules: dict[str, tuple[float, RobotFileParser | bool]] = {}
        self._lock = asyncio.Lock()

    async def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        async with self._lock:
            cached = self._rules.get(site)
            if cached is None or cached[0] < time.monotonic():
                cached = await self._fetch(site)
                self._rules[site] = cached
        rules = cached[1]
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(self.user_agent, url)

    async def _fetch(self, site: str) -> tuple[float, RobotFileParser | bool]:
        try:
            response = await self.client.get(f"{site}/robots.txt", follow_redirects=True)
        except httpx.HTTPError:
            return time.monotonic() + ROBOTS_RETRY_TTL, False
        if 400 <= response.status_code < 500:
            return time.monotonic() + ROBOTS_TTL, True
        if response.status_code >= 500:
            return time.monotonic() + ROBOTS_RETRY_TTL, False
        parser = RobotFileParser()
        parser.parse(response.text.splitlines())
        return time.monotonic() + ROBOTS_TTL, parser


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (Retry-After as seconds or an HTTP date), capped."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER))


def backoff(attempt: int, base: float, cap: float = 30.0) -> float:
    return min(cap, base * 2**attempt)
