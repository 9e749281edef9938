"""Fixtures for agent runs: a local shop, a runner wired to the test backend, agent bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from service.agents.fetch import Fetcher
from service.agents.politeness import RobotsCache
from service.agents.runner import AgentRunner
from service.coordination import create_coordinator
from service.db.engine import create_session_factory
from service.pipeline.sink import NoSink
from service.quotas import DailyPages
from tests.conftest import Backend
from tests.shop import FakeShop, Reply

PAGES = Path(__file__).resolve().parent / "pages"
HOBBYGAMES_SELECTORS = {
    "item": ".product-card",
    "title": ".product-card__title",
    "url": ".product-card__title::attr(href)",
    "price": ".price",
    "old_price": ".price-old",
    "badge": ".product-card__labels",
    "in_stock": ".product-card__stock",
}


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


@pytest.fixture
def shop() -> Iterator[FakeShop]:
    running = FakeShop().start()
    running.routes["/catalog/new"] = Reply(body=page("hobbygames_catalog.html"))
    yield running
    running.stop()


def html_agent(shop: FakeShop, **changes: Any) -> dict[str, Any]:
    config = {
        "start_urls": [shop.url("/catalog/new")],
        "mode": "search",
        "selectors": HOBBYGAMES_SELECTORS,
        "pagination": {"next_selector": "a.pagination__next::attr(href)", "max_pages": 2},
    }
    body: dict[str, Any] = {
        "id": "hobbygames-new",
        "name": "Hobby Games: новинки",
        "type": "html",
        "store_id": "hobbygames",
        "schedule": {"interval_seconds": 600},
        "rate_limit": {"rps": 10, "burst": 5, "daily_pages_cap": 100},
        "config": config | changes.pop("config", {}),
        "enabled": True,
    }
    return body | changes


@pytest.fixture
async def runner(
    backend: Backend, engine: AsyncEngine, clean_db: None
) -> AsyncIterator[AgentRunner]:
    coordinator = create_coordinator(backend.redis_url)
    quotas = DailyPages(coordinator, backend.settings().tz, global_cap=1000)
    async with httpx.AsyncClient(timeout=1.0, headers={"user-agent": "BGW-test"}) as client:
        fetcher = Fetcher(client, RobotsCache(client, "BGW-test"), quotas, backoff_base=0.01)
        yield AgentRunner(create_session_factory(engine), coordinator, fetcher, NoSink())
    await coordinator.aclose()
