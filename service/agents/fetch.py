"""Fetching one page politely: robots.txt, the agent's rate, the daily caps, bounded retries."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

import httpx

from service.agents.politeness import RobotsCache, TokenBucket, backoff, retry_after
from service.quotas import DailyPages
from telemetry.instruments import AGENT_PAGES_FETCHED
from telemetry.tracing import AGENT_ID, traced

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_PAGE_BYTES = 5 * 1024 * 1024


class FetchFailed(Exception):
    """The page could not be had after the allowed retries; ``reason`` is short and bounded."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class RobotsDisallowed(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(f"robots.txt disallows {url}")
        self.url = url


@dataclass(frozen=True)
class Page:
    url: str
    text: str
    content_hash: str


@dataclass
class Fetcher:
    client: httpx.AsyncClient
    robots: RobotsCache
    quotas: DailyPages
    max_retries: int = 3
    backoff_base: float = 1.0

    async def fetch(self, agent_id: str, url: str, bucket: TokenBucket, agent_cap: int) -> Page:
        """Raises RobotsDisallowed, service.quotas.QuotaExceeded or FetchFailed."""
        with traced("agent.fetch", {AGENT_ID: agent_id, "url.full": url}):
            if not await self.robots.allowed(url):
                raise RobotsDisallowed(url)
            for attempt in range(self.max_retries + 1):
                await self.quotas.reserve(agent_id, agent_cap)
                await bucket.acquire()
                wait: float | None
                try:
                    response = await self.client.get(url, follow_redirects=True)
                except httpx.TimeoutException:
                    reason, wait = "timeout", None
                except httpx.HTTPError as exc:
                    raise FetchFailed(url, f"connection error: {type(exc).__name__}") from exc
                else:
                    if response.status_code < 400:
                        return self._page(agent_id, url, response)
                    if response.status_code not in RETRYABLE_STATUS:
                        raise FetchFailed(url, f"HTTP {response.status_code}")
                    reason, wait = f"HTTP {response.status_code}", retry_after(response)
                if attempt == self.max_retries:
                    raise FetchFailed(url, f"{reason} after {attempt + 1} attempts")
                await asyncio.sleep(
                    wait if wait is not None else backoff(attempt, self.backoff_base)
                )
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _page(agent_id: str, url: str, response: httpx.Response) -> Page:
        body = response.content
        if len(body) > MAX_PAGE_BYTES:
            raise FetchFailed(url, f"page larger than {MAX_PAGE_BYTES} bytes")
        AGENT_PAGES_FETCHED.add(1, {"agent_id": agent_id})
        digest = hashlib.sha256(agent_id.encode() + b"\0" + body).hexdigest()
        return Page(str(response.url), response.text, digest)
