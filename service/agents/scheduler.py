"""When agents run: every tick, each enabled agent whose schedule says it is due is started.

A schedule is an interval or a cron expression in the agent's time zone. "Due" is computed from
the agent's last run in the database, so every replica agrees, and a replica that restarts
neither repeats nor forgets a run. Two replicas that find the same agent due race for its lease;
the loser sees that a run has started since the due time and does nothing.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from croniter import croniter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.agents.runner import AgentBusy, AgentRunner
from service.db.models import AgentRun, SourceAgent
from service.observability.series import prime_agent_series
from telemetry.periodic import Periodic

log = structlog.get_logger("bgw.scheduler")


def due_at(schedule: dict[str, Any], last_start: datetime | None, now: datetime) -> datetime:
    """The instant the next run is due (may be in the past: overdue)."""
    if schedule.get("interval_seconds"):
        if last_start is None:
            return now
        return last_start + timedelta(seconds=int(schedule["interval_seconds"]))
    zone = ZoneInfo(schedule.get("timezone") or "Europe/Moscow")
    # A never-run cron agent waits for its first slot rather than firing at start-up.
    base = (last_start or now).astimezone(zone)
    return croniter(schedule["cron"], base).get_next(datetime).astimezone(UTC)


class Scheduler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        runner: AgentRunner,
        tick_seconds: float = 5.0,
        max_concurrent_runs: int = 4,
    ) -> None:
        self.sessions = sessions
        self.runner = runner
        self.tick_seconds = tick_seconds
        self.max_concurrent_runs = max_concurrent_runs
        self.last_tick: float | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._periodic = Periodic("scheduler", self.tick, tick_seconds, grace=5.0)

    async def tick(self) -> None:
        now = datetime.now(UTC)
        async with self.sessions() as session:
            last_runs = dict(
                (
                    await session.execute(
                        select(AgentRun.agent_id, func.max(AgentRun.started_at)).group_by(
                            AgentRun.agent_id
                        )
                    )
                ).all()
            )
            agents = (
                await session.execute(
                    select(SourceAgent.id, SourceAgent.schedule, SourceAgent.store_id)
                    .where(SourceAgent.enabled.is_(True))
                    .order_by(SourceAgent.id)
                )
            ).all()
        self.last_tick = time.time()
        prime_agent_series((agent_id, store_id) for agent_id, _, store_id in agents)
        for agent_id, schedule, _ in agents:
            if agent_id in self._running or len(self._running) >= self.max_concurrent_runs:
                continue
            due = due_at(schedule, last_runs.get(agent_id), now)
            if due <= now:
                self._running[agent_id] = asyncio.create_task(
                    self._run(agent_id, due), name=f"agent:{agent_id}"
                )

    async def _run(self, agent_id: str, due: datetime) -> None:
        try:
            await self.runner.run(agent_id, unless_started_since=due)
        except AgentBusy:
            pass  # another replica has it
        except Exception:  # a failing agent must not stop the others
            log.exception("agent run crashed", agent_id=agent_id)
        finally:
            self._running.pop(agent_id, None)

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
        if self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def heartbeat_check(self) -> None:
        """For the health monitor: the scheduler ticked recently."""
        if self.last_tick is None:
            raise RuntimeError("the scheduler has not ticked yet")
        age = time.time() - self.last_tick
        if age > 3 * self.tick_seconds + 5:
            raise RuntimeError(f"the scheduler last ticked {age:.0f} s ago")
