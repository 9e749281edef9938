"""Health with a real PostgreSQL and Redis that are stopped and started again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from service.app import create_app
from service.config import Settings
from service.db import migrate
from tests.conftest import in_thread
from tests.servers import PostgresServer, RedisServer
from tests.telemetry.helpers import scrape

HEALTH = "/api/metrics/health"


@pytest.fixture
def own_servers() -> Iterator[tuple[PostgresServer, RedisServer]]:
    """Servers of this test's own: stopping them must not disturb the rest of the suite."""
    postgres, redis = PostgresServer(), RedisServer()
    try:
        postgres.initdb()
        postgres.start()
        postgres.create_database("bgw")
        in_thread(migrate.upgrade, postgres.url("bgw"))
        redis.start()
        yield postgres, redis
    finally:
        redis.stop()
        postgres.stop()
        postgres.remove()


@pytest.fixture
async def monitored(
    own_servers: tuple[PostgresServer, RedisServer],
) -> AsyncIterator[httpx.AsyncClient]:
    postgres, redis = own_servers
    settings = Settings(
        database_url=postgres.url("bgw"), redis_url=redis.url, health_interval_seconds=1
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
            yield client


async def _wait_for(
    client: httpx.AsyncClient, status_code: int, *down: str, patience: float = 30
) -> httpx.Response:
    """Poll until the endpoint answers ``status_code`` with exactly ``down`` components down
    (the background round may fall between stopping two servers)."""
    deadline = time.monotonic() + patience
    while True:
        response = await client.get(HEALTH)
        components = response.json()["components"]
        failing = {name for name, c in components.items() if c["status"] == "down"}
        if (response.status_code == status_code and failing == set(down)) or (
            time.monotonic() > deadline
        ):
            return response
        await asyncio.sleep(0.25)


async def test_health_follows_database_and_redis(
    monitored: httpx.AsyncClient, own_servers: tuple[PostgresServer, RedisServer]
) -> None:
    postgres, redis = own_servers
    healthy = await _wait_for(monitored, 200)
    assert healthy.json()["status"] == "ok"
    assert set(healthy.json()["components"]) == {"database", "redis"}
    families = await scrape(monitored)
    assert families["system_health"].value() == 1
    assert families["component_health"].value(component="database") == 1

    await asyncio.to_thread(postgres.stop)
    await asyncio.to_thread(redis.stop)
    down = await _wait_for(monitored, 503, "database", "redis")
    assert down.status_code == 503
    body = down.json()
    assert body["status"] == "down"
    assert body["components"]["database"]["status"] == "down"
    assert body["components"]["database"]["error"]
    assert body["components"]["redis"]["status"] == "down"
    families = await scrape(monitored)
    assert families["system_health"].value() == 0
    assert families["component_health"].value(component="database") == 0
    assert families["component_health"].value(component="redis") == 0
    # The API still answers what needs no database.
    assert (await monitored.get("/healthz")).status_code == 200

    await asyncio.to_thread(postgres.start)
    await asyncio.to_thread(redis.start)
    recovered = await _wait_for(monitored, 200)
    assert recovered.json()["status"] == "ok"
    families = await scrape(monitored)
    assert families["system_health"].value() == 1
    assert families["component_health"].value(component="redis") == 1


async def test_unreachable_ollama_degrades_but_does_not_fail(
    own_servers: tuple[PostgresServer, RedisServer],
) -> None:
    from tests.servers import free_port

    postgres, _ = own_servers
    settings = Settings(
        database_url=postgres.url("bgw"), ollama_url=f"http://127.0.0.1:{free_port()}"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
            response = await client.get(HEALTH)
            assert response.status_code == 200
            assert response.json()["status"] == "degraded"
            ollama = response.json()["components"]["ollama"]
            assert ollama["status"] == "down"
            assert ollama["critical"] is False
            families = await scrape(client)
            assert families["system_health"].value() == 1
            assert families["component_health"].value(component="ollama") == 0


async def test_health_is_served_from_cache(client: httpx.AsyncClient, app) -> None:
    first = (await client.get(HEALTH)).json()
    second = (await client.get(HEALTH)).json()
    assert first["checked_at"] == second["checked_at"]  # no new round per request
    assert first["components"]["database"]["status"] == "ok"
