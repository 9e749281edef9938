"""Counter series of enabled agents exist at 0 before their first increment, so that rate()
sees the first run, page and event."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.agents_fixtures import html_agent
from tests.factories import create, store_body
from tests.shop import FakeShop
from tests.telemetry.helpers import scrape


@pytest.mark.backends("sqlite")
async def test_enabled_agents_counters_start_at_zero(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    shop = FakeShop()  # never started: nothing is fetched
    await create(client, "/api/stores", store_body())
    await create(client, "/api/agents", html_agent(shop))
    await create(client, "/api/agents", html_agent(shop, id="off", enabled=False))

    await app.state.gauges.refresh()
    families = await scrape(client)
    runs = families["agent_runs_total"]
    for status in ("started", "success", "error", "skipped"):
        assert runs.value(agent_id="hobbygames-new", status=status) == 0
    assert families["agent_pages_fetched_total"].value(agent_id="hobbygames-new") == 0
    events = families["events_created_total"]
    for kind in ("announce", "preorder", "release", "discount", "price"):
        assert events.value(event_type=kind, store_id="hobbygames") == 0
    # A disabled agent gets nothing.
    assert runs.value(agent_id="off", status="started") is None
