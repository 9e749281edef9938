"""The components BGW checks: its database, Redis, Ollama and the OTLP export."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from service.agents.scheduler import Scheduler
from service.config import Settings
from service.coordination import Coordinator
from telemetry.export import ExportStatus
from telemetry.health import Component, HealthMonitor

OLLAMA_TIMEOUT = 5.0


def database_check(engine: AsyncEngine) -> Component:
    async def check() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return Component("database", check, critical=True)


def redis_check(coordinator: Coordinator) -> Component:
    return Component("redis", coordinator.ping, critical=True)


def ollama_check(base_url: str, client: httpx.AsyncClient) -> Component:
    async def check() -> None:
        response = await client.get(f"{base_url.rstrip('/')}/api/tags", timeout=OLLAMA_TIMEOUT)
        response.raise_for_status()

    return Component("ollama", check, critical=False, timeout=OLLAMA_TIMEOUT + 1)


def otlp_export_check(status: ExportStatus) -> Component:
    async def check() -> None:
        if failing := status.failing():
            raise ConnectionError("; ".join(failing))

    return Component("otlp_export", check, critical=False)


def scheduler_check(scheduler: Scheduler) -> Component:
    return Component("scheduler", scheduler.heartbeat_check, critical=False)


def build_monitor(
    settings: Settings,
    engine: AsyncEngine,
    coordinator: Coordinator,
    export_status: ExportStatus,
    http: httpx.AsyncClient,
    scheduler: Scheduler | None = None,
) -> HealthMonitor:
    """Checks for what this process uses: Redis, Ollama and OTLP only when configured, the
    scheduler's heartbeat when it runs here."""
    components = [database_check(engine)]
    if settings.redis_url:
        components.append(redis_check(coordinator))
    if settings.ollama_url:
        components.append(ollama_check(settings.ollama_url, http))
    if export_status.configured:
        components.append(otlp_export_check(export_status))
    if scheduler is not None:
        components.append(scheduler_check(scheduler))
    return HealthMonitor(components, interval=settings.health_interval_seconds)
