"""Real `bgw worker` processes against a database of their own (PostgreSQL and Redis), for
tests of what several processes, or a killed one, do."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings
from service.db import migrate
from service.db.engine import create_engine, create_session_factory
from tests.conftest import in_thread
from tests.servers import PostgresServer, RedisServer

BGW = str(Path(sys.executable).with_name("bgw"))


@pytest.fixture
async def shared_db(
    postgres_server: PostgresServer, redis_server: RedisServer
) -> AsyncIterator[tuple[str, AsyncSession]]:
    """A fresh migrated database: (its URL for workers, a session for the test)."""
    name = f"bgw_shared_{os.getpid()}_{time.monotonic_ns()}"
    postgres_server.create_database(name)
    url = postgres_server.url(name)
    in_thread(migrate.upgrade, url)
    engine = create_engine(Settings(database_url=url))
    async with create_session_factory(engine)() as session:
        yield url, session
    await engine.dispose()


@pytest.fixture
def workers(shared_db, redis_server: RedisServer) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Workers started by the test; stopped (SIGTERM) afterwards if still running."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()  # never leave a worker behind, even a stuck one
                process.wait(timeout=10)
                raise


def start_worker(
    url: str, redis_url: str, started: list, log: Path, settings: dict[str, str]
) -> subprocess.Popen[bytes]:
    """`bgw worker` on ``url``, with ``settings`` (BGW_* variables) and nothing else of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "BGW_"))}
    env |= {"DATABASE_URL": url, "REDIS_URL": redis_url} | settings
    process = subprocess.Popen(
        [BGW, "worker"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    started.append(process)
    return process
