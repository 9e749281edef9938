"""Counters and locks behave the same in process and in a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.exceptions

from service.coordination import (
    Coordinator,
    MemoryCoordinator,
    RedisCoordinator,
    create_coordinator,
)
from tests.servers import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def coordinator(request: pytest.FixtureRequest) -> AsyncIterator[Coordinator]:
    if request.param == "memory":
        instance: Coordinator = MemoryCoordinator()
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        instance = RedisCoordinator.from_url(server.url)
        await instance.client.flushdb()
    yield instance
    await instance.aclose()


async def test_counter_adds_atomically(coordinator: Coordinator) -> None:
    assert await coordinator.get("pages:global") == 0
    results = await asyncio.gather(*(coordinator.incr("pages:global") for _ in range(50)))
    assert sorted(results) == list(range(1, 51))
    assert await coordinator.incr("pages:global", 5) == 55
    assert await coordinator.get("pages:global") == 55
    assert await coordinator.get("pages:other") == 0


async def test_counter_expires_at_the_given_instant(coordinator: Coordinator) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=1.2)
    await coordinator.incr("pages:today", 3, expire_at=soon)
    assert await coordinator.get("pages:today") == 3
    await asyncio.sleep(2.1)
    assert await coordinator.get("pages:today") == 0
    assert await coordinator.incr("pages:today", expire_at=soon + timedelta(days=1)) == 1


async def test_lock_is_exclusive_and_only_its_holder_releases(coordinator: Coordinator) -> None:
    lease = await coordinator.acquire("agent:hobbygames", ttl=30)
    assert lease is not None
    assert await coordinator.acquire("agent:hobbygames", ttl=30) is None
    assert await coordinator.acquire("agent:lavkaigr", ttl=30) is not None

    impostor = type(lease)(lease.name)  # same name, another token
    assert await coordinator.release(impostor) is False
    assert await coordinator.extend(impostor, 30) is False
    assert await coordinator.acquire("agent:hobbygames", ttl=30) is None

    assert await coordinator.extend(lease, 30) is True
    assert await coordinator.release(lease) is True
    assert await coordinator.release(lease) is False
    assert await coordinator.acquire("agent:hobbygames", ttl=30) is not None


async def test_lock_expires_when_its_holder_dies(coordinator: Coordinator) -> None:
    lease = await coordinator.acquire("agent:dead", ttl=0.3)
    assert lease is not None
    await asyncio.sleep(0.5)
    successor = await coordinator.acquire("agent:dead", ttl=30)
    assert successor is not None
    assert await coordinator.extend(lease, 30) is False  # the dead holder cannot take it back


async def test_ping(coordinator: Coordinator) -> None:
    await coordinator.ping()


async def test_redis_ping_fails_when_the_server_is_gone() -> None:
    from tests.servers import free_port

    unreachable = RedisCoordinator.from_url(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(redis.exceptions.ConnectionError):
        await unreachable.ping()
    await unreachable.aclose()


async def test_factory_picks_the_backend(redis_server: RedisServer) -> None:
    assert create_coordinator(None).backend == "memory"
    shared = create_coordinator(redis_server.url)
    assert shared.backend == "redis"
    await shared.ping()
    await shared.aclose()
