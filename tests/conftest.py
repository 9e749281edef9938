"""Fixtures: every test that takes ``backend`` runs on the embedded default (SQLite, no Redis) and
on a real PostgreSQL + Redis started for the session. ``--backend sqlite`` (or ``postgres``)
narrows a run to one of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from service.app import create_app
from service.config import Settings
from service.db import migrate
from service.db.engine import create_engine, create_session_factory
from service.db.models import Base
from tests.servers import PostgresServer, RedisServer

BACKENDS = ("sqlite", "postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        action="append",
        choices=BACKENDS,
        help="run backend-dependent tests on this backend only (repeatable; default: all)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "backends(*names): run only on these backends (for tests whose subject is not the "
        "database, so running them twice would prove nothing more)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("backend") or list(BACKENDS)
        if marker := metafunc.definition.get_closest_marker("backends"):
            chosen = [name for name in chosen if name in marker.args]
        metafunc.parametrize("backend", chosen, indirect=True, scope="session")


@dataclass(frozen=True)
class Backend:
    name: str
    database_url: str
    redis_url: str | None

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": self.database_url,
            "redis_url": self.redis_url,
            "env": "development",
            "timezone": "Europe/Moscow",
        }
        return Settings(**(values | overrides))


def in_thread(function: Any, *args: Any) -> Any:
    """Run blocking code that starts its own event loop (Alembic's env) off the test loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.initdb()
        server.start()
        yield server
    finally:
        server.stop()
        server.remove()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "bgw.db"
        chosen = Backend("sqlite", f"sqlite+aiosqlite:///{path}", None)
    else:
        postgres: PostgresServer = request.getfixturevalue("postgres_server")
        redis: RedisServer = request.getfixturevalue("redis_server")
        postgres.create_database("bgw_test")
        chosen = Backend("postgres", postgres.url("bgw_test"), redis.url)
    in_thread(migrate.upgrade, chosen.database_url)
    return chosen


@pytest.fixture(scope="session")
async def engine(backend: Backend) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(backend.settings())
    yield engine
    await engine.dispose()


@pytest.fixture
async def clean_db(backend: Backend, engine: AsyncEngine) -> AsyncIterator[None]:
    """Each test leaves empty tables (the schema stays) and an empty Redis behind."""
    yield
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))
    if backend.redis_url:
        client = Redis.from_url(backend.redis_url)
        await client.flushdb()
        await client.aclose()


@pytest.fixture
async def session(engine: AsyncEngine, clean_db: None) -> AsyncIterator[AsyncSession]:
    async with create_session_factory(engine)() as session:
        yield session


@pytest.fixture
def settings(backend: Backend) -> Settings:
    return backend.settings()


@pytest.fixture
async def app(settings: Settings, clean_db: None) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
        yield client


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
