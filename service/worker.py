"""The agent runtime: runner and scheduler over shared resources. ``bgw worker`` runs it on its
own; ``bgw serve`` embeds it on the embedded default (SQLite) and always offers manual runs."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass, field

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.agents.fetch import Fetcher
from service.agents.politeness import RobotsCache
from service.agents.runner import AgentRunner, RunResult
from service.agents.scheduler import Scheduler
from service.config import Settings
from service.coordination import Coordinator, create_coordinator
from service.db.engine import create_engine, create_session_factory
from service.notifications.setup import build_notifications
from service.pipeline.llm import OllamaExtractor
from service.pipeline.sink import EventSink
from service.quotas import DailyPages
from service.rules.firing import RulesSink
from service.rules.quiet import QuietHours
from telemetry import setup_telemetry

log = structlog.get_logger("bgw.worker")


@dataclass
class AgentRuntime:
    runner: AgentRunner
    scheduler: Scheduler
    http: httpx.AsyncClient
    _manual: set[asyncio.Task[RunResult | None]] = field(default_factory=set)

    async def start_run(self, agent_id: str) -> None:
        """Start a manual run in the background; AgentBusy at once if the agent is running."""
        lease = await self.runner.claim(agent_id)
        task = asyncio.create_task(self.runner.run_claimed(lease), name=f"manual:{agent_id}")
        self._manual.add(task)
        task.add_done_callback(self._manual.discard)

    async def aclose(self) -> None:
        await self.scheduler.stop()
        if self._manual:
            await asyncio.gather(*self._manual, return_exceptions=True)
        await self.http.aclose()


def build_runtime(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    coordinator: Coordinator,
    quotas: DailyPages,
    sink: EventSink | None = None,
) -> AgentRuntime:
    http = httpx.AsyncClient(
        timeout=settings.fetch_timeout_seconds,
        headers={"user-agent": settings.user_agent},
    )
    fetcher = Fetcher(http, RobotsCache(http, settings.user_agent), quotas)
    llm = (
        OllamaExtractor(settings.ollama_url, http, settings.ollama_model)
        if settings.ollama_url
        else None
    )
    runner = AgentRunner(
        sessions,
        coordinator,
        fetcher,
        sink or RulesSink(QuietHours(settings.quiet_hours, settings.tz)),
        llm=llm,
        lease_seconds=settings.agent_lease_seconds,
    )
    scheduler = Scheduler(sessions, runner, tick_seconds=settings.scheduler_tick_seconds)
    return AgentRuntime(runner, scheduler, http)


async def run_worker(settings: Settings) -> None:
    """``bgw worker``: schedule and run agents until SIGTERM or SIGINT."""
    telemetry = setup_telemetry(settings, role="worker")
    if not settings.is_sqlite and settings.redis_url is None:
        log.warning(
            "no REDIS_URL: locks and daily quotas are this process's own, "
            "so a second worker would not share them (set REDIS_URL to run several)"
        )
    engine = create_engine(settings)
    telemetry.instrument_engine(engine)
    telemetry.instrument_clients()
    coordinator = create_coordinator(settings.redis_url)
    sessions = create_session_factory(engine)
    quotas = DailyPages(coordinator, settings.tz, settings.daily_pages_cap)
    runtime = build_runtime(settings, sessions, coordinator, quotas)
    notifications = build_notifications(settings, sessions)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    runtime.scheduler.start()
    notifications.dispatcher.start()
    log.info(
        "worker started",
        tick_seconds=settings.scheduler_tick_seconds,
        channels=sorted(notifications.channels),
    )
    try:
        await stop.wait()
    finally:
        log.info("worker stopping")
        await notifications.aclose()
        await runtime.aclose()
        await coordinator.aclose()
        await engine.dispose()
        telemetry.shutdown()


async def run_agent_once(settings: Settings, agent_id: str) -> RunResult | None:
    """``bgw agents run``: one run in this process, with the same telemetry as a worker."""
    telemetry = setup_telemetry(settings, role="worker")
    engine = create_engine(settings)
    coordinator = create_coordinator(settings.redis_url)
    sessions = create_session_factory(engine)
    quotas = DailyPages(coordinator, settings.tz, settings.daily_pages_cap)
    runtime = build_runtime(settings, sessions, coordinator, quotas)
    try:
        return await runtime.runner.run(agent_id)
    finally:
        await runtime.aclose()
        await coordinator.aclose()
        await engine.dispose()
        telemetry.shutdown()
