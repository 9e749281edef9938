"""The metrics API: auth, reset, stats and targets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from service.app import create_app
from service.db.models import AgentRun
from telemetry.instruments import AGENT_RUNS, EVENTS_CREATED
from tests.conftest import Backend
from tests.factories import agent_body, create, event_row, rule_body, store_body
from tests.telemetry.helpers import METRICS_PATH, scrape

PROTECTED = (
    METRICS_PATH,
    "/api/metrics/stats",
    "/api/metrics/targets",
    "/api/metrics/reset",
)


async def _client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
            yield client


@pytest.fixture
async def guarded(
    backend: Backend, clean_db: None, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    token_file = tmp_path / "metrics-token"
    token_file.write_text("s3cret-token\n")
    app = create_app(backend.settings(metrics_token_file=token_file))
    async for client in _client_for(app):
        yield client


async def test_token_guards_every_route_but_health(guarded: httpx.AsyncClient) -> None:
    for path in PROTECTED:
        anonymous = await guarded.get(path)
        assert anonymous.status_code == 401, path
        assert anonymous.headers["www-authenticate"] == "Bearer"
        wrong = await guarded.get(path, headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401, path
    right = {"authorization": "Bearer s3cret-token"}
    assert (await guarded.get(METRICS_PATH, headers=right)).status_code == 200
    assert (await guarded.get("/api/metrics/stats", headers=right)).status_code == 200
    assert (await guarded.get("/api/metrics/health")).status_code == 200


async def test_open_without_a_token(client: httpx.AsyncClient) -> None:
    for path in PROTECTED:
        assert (await client.get(path)).status_code == 200, path


async def test_reset_in_development_zeroes_every_counter(client: httpx.AsyncClient) -> None:
    await create(client, "/api/stores", store_body())
    AGENT_RUNS.add(3, {"agent_id": "a", "status": "success"})
    EVENTS_CREATED.add(2, {"event_type": "discount", "store_id": "hobbygames"})
    before = await scrape(client)
    assert before["agent_runs_total"].value(agent_id="a", status="success") == 3

    assert (await client.post("/api/metrics/reset")).json() == {"status": "reset"}
    after = await scrape(client)
    counters = [f for f in after.values() if f.type == "counter"]
    assert counters, "the closed-set counters are exposed at zero"
    for family in counters:
        for name, labels, value in family.samples:
            if name.endswith("_total"):
                assert value == 0, (name, labels)
    histogram = after.get("api_response_time_seconds")
    assert histogram is None or all(v == 0 for _, _, v in histogram.samples)
    AGENT_RUNS.add(1, {"agent_id": "a", "status": "success"})
    assert (await scrape(client))["agent_runs_total"].value(agent_id="a", status="success") == 1
    assert (await client.get("/api/metrics/reset")).status_code == 200


async def test_reset_is_not_found_in_production(backend: Backend, clean_db: None) -> None:
    app = create_app(backend.settings(env="production"))
    async for client in _client_for(app):
        AGENT_RUNS.add(5, {"agent_id": "p", "status": "success"})
        for method in ("GET", "POST"):
            assert (await client.request(method, "/api/metrics/reset")).status_code == 404
        families = await scrape(client)
        assert families["agent_runs_total"].value(agent_id="p", status="success") == 5


async def test_stats_come_from_stored_data_and_meters(
    app: FastAPI, client: httpx.AsyncClient, session
) -> None:
    await create(client, "/api/stores", store_body())
    await create(client, "/api/agents", agent_body(enabled=True))
    await create(client, "/api/agents", agent_body(id="second", enabled=False))
    await create(client, "/api/rules", rule_body())
    now = datetime.now(UTC)
    session.add_all(
        [
            event_row("hobbygames", kind="discount", first_seen_at=now),
            event_row("hobbygames", kind="preorder", first_seen_at=now),
            event_row("hobbygames", kind="preorder", first_seen_at=now - timedelta(days=3)),
            AgentRun(
                agent_id="hobbygames-new",
                store_id="hobbygames",
                status="success",
                started_at=now - timedelta(hours=1),
            ),
            AgentRun(
                agent_id="hobbygames-new",
                store_id="hobbygames",
                status="error",
                started_at=now - timedelta(hours=2),
            ),
            AgentRun(
                agent_id="hobbygames-new",
                store_id="hobbygames",
                status="success",
                started_at=now - timedelta(days=2),
            ),
        ]
    )
    await session.commit()
    await app.state.quotas.record("hobbygames-new", 7)
    for _ in range(20):
        await client.get("/api/games")

    stats = (await client.get("/api/metrics/stats")).json()
    assert stats["agents"]["total"] == 2
    assert stats["agents"]["enabled"] == 1
    assert stats["agents"]["runs_24h"] == {"success": 1, "error": 1}
    assert stats["agents"]["pages_today"]["used"] == 7
    assert stats["agents"]["pages_today"]["cap"] == 1000
    assert stats["agents"]["pages_today"]["by_agent"] == {"hobbygames-new": {"used": 7, "cap": 100}}
    assert stats["events_24h"] == {"discount": 1, "preorder": 1}
    assert stats["rules_active"] == 1
    assert stats["api"]["requests"] == 24  # 4 creates + 20 lists; /api/metrics/* is not measured
    assert 0 < stats["api"]["p95_latency_seconds"] < 10


async def test_targets_in_http_sd_format(backend: Backend, clean_db: None) -> None:
    app = create_app(backend.settings(metrics_targets=["otel-collector=collector:8889"]))
    async for client in _client_for(app):
        groups = (await client.get("/api/metrics/targets")).json()
    assert groups[0] == {
        "targets": ["bgw.test"],
        "labels": {
            "job": "bgw-api",
            "__metrics_path__": "/api/metrics/prometheus",
            "__scheme__": "http",
            "environment": "development",
        },
    }
    assert groups[1] == {"targets": ["collector:8889"], "labels": {"job": "otel-collector"}}
