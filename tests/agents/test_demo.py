"""`bgw demo`: its shops move through every kind of event, in process and for real."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.agents.fetch import Fetcher
from service.agents.politeness import RobotsCache
from service.agents.runner import AgentRunner
from service.coordination import MemoryCoordinator
from service.db.engine import create_session_factory
from service.db.models import AlertRule, ListingEvent, SourceAgent
from service.demo.seed import seed_demo
from service.demo.site import create_site
from service.domain import EventKind
from service.pipeline.sink import NoSink
from service.quotas import DailyPages
from tests.servers import free_port, wait_for_port

BGW = str(Path(sys.executable).with_name("bgw"))
SITE = "http://demo.test"


async def test_the_demo_shops_produce_every_kind(engine: AsyncEngine, clean_db: None) -> None:
    now = [0.0]
    site = create_site(phase_seconds=15, clock=lambda: now[0])
    sessions = create_session_factory(engine)
    await seed_demo(sessions, SITE)
    await seed_demo(sessions, SITE)  # idempotent
    coordinator = MemoryCoordinator()
    quotas = DailyPages(coordinator, ZoneInfo("Europe/Moscow"), 1000)
    transport = httpx.ASGITransport(app=site)
    async with httpx.AsyncClient(transport=transport, base_url=SITE) as client:
        runner = AgentRunner(
            sessions, coordinator, Fetcher(client, RobotsCache(client, "BGW"), quotas), NoSink()
        )
        async with sessions() as session:
            agent_ids = (await session.scalars(select(SourceAgent.id))).all()
            assert (await session.scalars(select(AlertRule.name))).all() == ["Скидки от 10 %"]
        for phase in range(3):
            now[0] = phase * 15 + 1
            for agent_id in agent_ids:
                result = await runner.run(agent_id)
                assert result is not None
                assert result.status.value == "success", result.reason
    async with sessions() as session:
        kinds = collections.Counter((await session.scalars(select(ListingEvent.kind))).all())
    assert set(kinds) == {kind.value for kind in EventKind}


def test_bgw_demo_serves_events_of_every_kind(tmp_path: Path) -> None:
    port, site_port = free_port(), free_port()
    process = subprocess.Popen(
        [BGW, "demo", "--port", str(port), "--site-port", str(site_port), "--phase-seconds", "3"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if not k.startswith("DATABASE")},
    )
    try:
        wait_for_port(port)
        deadline = time.monotonic() + 60
        kinds: set[str] = set()
        while kinds != {kind.value for kind in EventKind}:
            assert time.monotonic() < deadline, f"only {kinds} within a minute"
            time.sleep(1)
            events = httpx.get(f"http://127.0.0.1:{port}/api/events", params={"limit": 200})
            kinds = {event["kind"] for event in events.json()["items"]}
        metrics = httpx.get(f"http://127.0.0.1:{port}/api/metrics/prometheus").text
        assert 'events_created_total{event_type="discount",store_id="demo-lavka"}' in metrics
        # The discount rule's notification reaches the demo's webhook inbox, confirmed.
        while not (inbox := httpx.get(f"http://127.0.0.1:{site_port}/inbox").json())[
            "notifications"
        ]:
            assert time.monotonic() < deadline + 30, "no notification delivered"
            time.sleep(0.5)
        (first, *_) = inbox["notifications"]
        assert first["event"]["kind"] == "discount"
        assert first["rule"]["name"] == "Скидки от 10 %"
        assert first["title"].endswith(" — скидка")
        metrics = httpx.get(f"http://127.0.0.1:{port}/api/metrics/prometheus").text
        assert 'notifications_delivered_total{channel="webhook"}' in metrics
        delivered = [
            line
            for line in metrics.splitlines()
            if line.startswith('notifications_delivered_total{channel="webhook"}')
        ]
        assert float(delivered[0].split()[-1]) >= 1
        assert (tmp_path / "bgw-demo.db").exists()
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert "demo shops" in output
