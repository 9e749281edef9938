"""Manual runs over the API, and their history."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.agents_fixtures import html_agent
from tests.factories import create, game_body, store_body
from tests.shop import FakeShop, Reply


async def _runs(client: httpx.AsyncClient, agent_id: str) -> list[dict]:
    response = await client.get(f"/api/agents/{agent_id}/runs")
    assert response.status_code == 200
    return response.json()


async def test_run_now_and_follow_it(client: httpx.AsyncClient, shop: FakeShop) -> None:
    await create(client, "/api/stores", store_body())
    await create(client, "/api/games", game_body(title="Азул", synonyms=[], bgg_id=None))
    shop.routes["/catalog/new?page=2"] = Reply(404)
    await create(client, "/api/agents", html_agent(shop, enabled=False))

    response = await client.post("/api/agents/hobbygames-new/run")
    assert response.status_code == 202
    assert response.json() == {"agent_id": "hobbygames-new", "status": "accepted"}
    deadline = time.monotonic() + 15
    while not (runs := await _runs(client, "hobbygames-new")) or runs[0]["status"] == "running":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    (run,) = runs
    assert run["status"] == "success"
    assert run["pages_fetched"] == 1
    assert run["pages_failed"] == 1
    assert run["events_created"] == 1  # Azul, the only watched game
    assert "HTTP 404" in run["reason"]
    events = (await client.get("/api/events", params={"kind": "release"})).json()["items"]
    assert [e["title"] for e in events] == ["Азул"]


async def test_run_of_a_busy_or_unknown_agent(
    client: httpx.AsyncClient, shop: FakeShop, app
) -> None:
    await create(client, "/api/stores", store_body())
    await create(client, "/api/agents", html_agent(shop))
    lease = await app.state.agents.runner.claim("hobbygames-new")
    busy = await client.post("/api/agents/hobbygames-new/run")
    assert busy.status_code == 409
    assert "already running" in busy.json()["detail"]
    await app.state.coordinator.release(lease)
    assert (await client.post("/api/agents/nope/run")).status_code == 404
    assert (await client.get("/api/agents/nope/runs")).status_code == 404
