"""A `bgw worker` killed while its sends hang: after a restart every notification is delivered,
each exactly once (PostgreSQL + Redis, real processes)."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from service.db.models import AlertRule, Game, Notification, Store
from service.rules.firing import RulesSink
from service.rules.quiet import QuietHours
from tests.factories import event_row
from tests.notifications.providers import FakeHTTPProvider
from tests.processes import start_worker
from tests.servers import RedisServer

LEASE = 3
COUNT = 12


async def statuses(session) -> list[str]:
    session.expire_all()
    return list((await session.scalars(select(Notification.status))).all())


async def wait_for(condition, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError((await asyncio.to_thread(log.read_text))[-3000:])
        await asyncio.sleep(0.2)


@pytest.mark.backends("postgres")
async def test_a_killed_dispatcher_loses_and_repeats_nothing(
    shared_db, workers, redis_server: RedisServer, telegram: FakeHTTPProvider, tmp_path: Path
) -> None:
    database_url, session = shared_db
    session.add(Store(id="hobbygames", name="Hobby Games", site_url="https://hobbygames.ru"))
    game = Game(title="Каскадия", synonyms=[])
    session.add(game)
    session.add(
        AlertRule(
            name="Каскадия",
            logic="AND",
            conditions=[{"field": "game", "op": "contains", "value": "Каскадия"}],
            channels=["telegram"],
        )
    )
    await session.flush()
    events = [event_row("hobbygames", game_id=game.id) for _ in range(COUNT)]
    session.add_all(events)
    await session.flush()
    await RulesSink(QuietHours(None, None)).on_events(session, events)
    await session.commit()
    urls = [event.url for event in events]
    assert await statuses(session) == ["pending"] * COUNT

    settings = {
        "BGW_TELEGRAM_BOT_TOKEN": "7:T",
        "BGW_TELEGRAM_CHAT_ID": "1",
        "BGW_TELEGRAM_API_URL": telegram.url,
        "BGW_NOTIFY_LEASE_SECONDS": str(LEASE),
        "BGW_NOTIFY_TIMEOUT_SECONDS": "60",
        "BGW_DISPATCHER_TICK_SECONDS": "0.3",
    }
    log = tmp_path / "worker.log"
    telegram.stall_all = 60  # the provider hangs: sends are in flight when the worker dies
    doomed = start_worker(database_url, redis_server.url, workers, log, settings)

    async def in_flight() -> bool:
        return telegram.attempts >= 1 and "sent" in await statuses(session)

    await wait_for(in_flight, 30, log)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    assert telegram.accepted == []
    assert "delivered" not in await statuses(session)

    telegram.stall_all = 0
    start_worker(database_url, redis_server.url, workers, log, settings)

    async def all_delivered() -> bool:
        return await statuses(session) == ["delivered"] * COUNT

    await wait_for(all_delivered, 30, log)
    texts = [a.body["text"] for a in telegram.accepted]
    assert len(texts) == COUNT
    for url in urls:
        assert sum(f'href="{url}"' in text for text in texts) == 1, url
    rows = list((await session.scalars(select(Notification))).all())
    assert all(n.attempts >= 2 for n in rows if n.provider_ref)  # claimed again after the kill
