"""Two `bgw worker` processes against one PostgreSQL and Redis: an agent never runs twice at
once, and a run lost with a killed worker is picked up after its lease expires."""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.agents.runner import ABANDONED
from service.db.models import AgentRun, SourceAgent, Store
from tests.agents_fixtures import html_agent
from tests.processes import start_worker
from tests.servers import RedisServer
from tests.shop import FakeShop, Reply

LEASE = 3
WORKER_ENV = {
    "BGW_SCHEDULER_TICK_SECONDS": "0.3",
    "BGW_AGENT_LEASE_SECONDS": str(LEASE),
    "BGW_FETCH_TIMEOUT_SECONDS": "10",
}


async def add_agents(session: AsyncSession, shop: FakeShop, *ids: str) -> None:
    session.add(Store(id="hobbygames", name="Hobby Games", site_url=shop.base))
    await session.flush()
    for agent_id in ids:
        body = html_agent(shop, id=agent_id, schedule={"interval_seconds": 10})
        body["config"]["pagination"] = {"max_pages": 1}
        body["config"]["start_urls"] = [shop.url(f"/{agent_id}")]
        session.add(SourceAgent(**body))
    await session.commit()


async def runs(session: AsyncSession) -> list[AgentRun]:
    session.expire_all()
    return list((await session.scalars(select(AgentRun).order_by(AgentRun.started_at))).all())


@pytest.fixture
def slow_shop() -> Iterator[FakeShop]:
    running = FakeShop().start()
    yield running
    running.stop()


async def test_two_workers_never_run_an_agent_twice_at_once(
    shared_db, workers, redis_server: RedisServer, slow_shop: FakeShop, tmp_path: Path
) -> None:
    url, session = shared_db
    for agent_id in ("alpha", "beta", "gamma"):
        slow_shop.routes[f"/{agent_id}"] = Reply(body="<html></html>", delay=0.8)
    await add_agents(session, slow_shop, "alpha", "beta", "gamma")
    for _ in range(2):
        start_worker(url, redis_server.url, workers, tmp_path / "workers.log", WORKER_ENV)

    deadline = time.monotonic() + 60
    while True:
        done = [r for r in await runs(session) if r.status != "running"]
        per_agent = {a: [r for r in done if r.agent_id == a] for a in ("alpha", "beta", "gamma")}
        if all(len(v) >= 2 for v in per_agent.values()):
            break
        assert time.monotonic() < deadline, (tmp_path / "workers.log").read_text()[-3000:]
        await asyncio.sleep(0.5)

    for agent_id, agent_runs in per_agent.items():
        for earlier, later in itertools.pairwise(agent_runs):
            assert later.started_at >= earlier.finished_at, f"{agent_id} ran twice at once"
            gap = (later.started_at - earlier.started_at).total_seconds()
            assert gap >= 9.5, f"{agent_id} ran again after {gap:.1f} s: a repeated run"
        assert all(r.status == "success" for r in agent_runs)
    hits = {a: slow_shop.hits(f"/{a}") for a in ("alpha", "beta", "gamma")}
    for agent_id, agent_runs in per_agent.items():
        assert hits[agent_id] >= len(agent_runs)


async def test_a_run_lost_with_its_worker_is_not_lost(
    shared_db, workers, redis_server: RedisServer, slow_shop: FakeShop, tmp_path: Path
) -> None:
    url, session = shared_db
    slow_shop.routes["/slow"] = Reply(body="<html></html>", delay=6)
    await add_agents(session, slow_shop, "slow")
    doomed = start_worker(url, redis_server.url, workers, tmp_path / "a.log", WORKER_ENV)

    deadline = time.monotonic() + 30
    while not [r for r in await runs(session) if r.status == "running"]:
        assert time.monotonic() < deadline, (tmp_path / "a.log").read_text()[-3000:]
        await asyncio.sleep(0.2)
    doomed.send_signal(signal.SIGKILL)  # dies mid-run, holding the lease
    doomed.wait(timeout=10)
    killed_at = time.monotonic()
    slow_shop.routes["/slow"] = Reply(body="<html></html>")
    start_worker(url, redis_server.url, workers, tmp_path / "b.log", WORKER_ENV)

    deadline = time.monotonic() + 45
    while True:
        all_runs = await runs(session)
        if any(r.status == "success" for r in all_runs):
            break
        assert time.monotonic() < deadline, (tmp_path / "b.log").read_text()[-3000:]
        await asyncio.sleep(0.3)
    abandoned, retried = all_runs[0], all_runs[-1]
    assert abandoned.status == "error"
    assert abandoned.reason == ABANDONED
    assert retried.status == "success"
    assert time.monotonic() - killed_at >= LEASE - 0.5  # it waited for the lease to expire
