"""Schedules: intervals and cron in a time zone; due runs start, nothing runs twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from service.agents.runner import AgentRunner
from service.agents.scheduler import Scheduler, due_at
from service.db.models import AgentRun
from tests.agents_fixtures import html_agent
from tests.factories import create, store_body
from tests.shop import FakeShop

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 15:00 in Moscow


def test_interval_schedule() -> None:
    schedule = {"interval_seconds": 600}
    assert due_at(schedule, None, NOW) == NOW  # never ran: due now
    assert due_at(schedule, NOW - timedelta(minutes=4), NOW) == NOW + timedelta(minutes=6)


def test_cron_schedule_in_its_time_zone() -> None:
    daily_nine_moscow = {"cron": "0 9 * * *", "timezone": "Europe/Moscow"}
    # Last run yesterday 09:00 MSK (06:00 UTC): next is today 06:00 UTC, already past.
    last = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert due_at(daily_nine_moscow, last, NOW) == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    # Never ran: the first slot after now, not an immediate run.
    assert due_at(daily_nine_moscow, None, NOW) == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    vladivostok = {"cron": "0 9 * * *", "timezone": "Asia/Vladivostok"}
    assert due_at(vladivostok, None, NOW) == datetime(2026, 11, 24, 23, 0, tzinfo=UTC)


async def test_tick_runs_due_agents_once(
    client: httpx.AsyncClient, runner: AgentRunner, session, shop: FakeShop
) -> None:
    await create(client, "/api/stores", store_body())
    await create(client, "/api/agents", html_agent(shop))
    await create(client, "/api/agents", html_agent(shop, id="disabled-one", enabled=False))
    await create(
        client,
        "/api/agents",
        html_agent(shop, id="cron-later", schedule={"cron": "0 3 1 1 *"}),
    )
    scheduler = Scheduler(runner.sessions, runner, tick_seconds=0.2)
    await scheduler.tick()
    await scheduler.tick()  # the first run is under way or done: not started again
    await asyncio.wait_for(asyncio.gather(*scheduler._running.values()), 10)
    await scheduler.tick()  # ran moments ago; the interval is 10 minutes
    await scheduler.stop()
    runs = (await session.scalars(select(AgentRun.agent_id))).all()
    assert runs == ["hobbygames-new"]
    await scheduler.heartbeat_check()  # it ticked


async def test_replica_that_lost_the_race_does_not_repeat_the_run(
    client: httpx.AsyncClient, runner: AgentRunner, shop: FakeShop
) -> None:
    await create(client, "/api/stores", store_body())
    await create(client, "/api/agents", html_agent(shop))
    due = datetime.now(UTC)
    first = await runner.run("hobbygames-new", unless_started_since=due)
    assert first is not None
    assert await runner.run("hobbygames-new", unless_started_since=due) is None


async def test_heartbeat_fails_before_the_first_tick(runner: AgentRunner) -> None:
    with pytest.raises(RuntimeError, match="not ticked"):
        await Scheduler(runner.sessions, runner).heartbeat_check()
