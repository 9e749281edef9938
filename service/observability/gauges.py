"""Gauges derived from stored data, refreshed on an interval by the API process.

Counts come from the database, quotas from the coordinator's counters, and the 24-hour quality
figures from the agent-run history — never from literals. A figure with nothing to measure yet
(no fetches, no drafts, no stores with agents in 24 h) is left out of the exposition rather than
reported as a made-up 0 or 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import AgentRun, AlertRule, SourceAgent
from service.domain import AgentRunStatus
from service.observability.series import prime_agent_series
from service.quotas import DailyPages
from service.schemas.agents import DEFAULT_AGENT_DAILY_PAGES_CAP
from telemetry.instruments import (
    ACTIVE_AGENTS,
    AGENT_DAILY_PAGES_CAP,
    AGENT_DAILY_PAGES_USED,
    DAILY_PAGES_CAP,
    DAILY_PAGES_USED,
    DATA_QUALITY_SCORE,
    EVENT_DEDUP_RATIO,
    RULES_ACTIVE,
    SCRAPING_SUCCESS_RATE,
    STORE_COVERAGE,
    Gauge,
)
from telemetry.periodic import Periodic

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Quality:
    """The 24-hour quality figures; None where there was nothing to measure."""

    scraping_success_rate: float | None
    data_quality_score: float | None
    store_coverage: float | None
    event_dedup_ratio: float | None


async def quality(session: AsyncSession, now: datetime | None = None) -> Quality:
    since = (now or datetime.now(UTC)) - WINDOW
    recent = AgentRun.started_at >= since
    fetched, failed, parsed, valid, merged = (
        await session.execute(
            select(
                func.coalesce(func.sum(AgentRun.pages_fetched), 0),
                func.coalesce(func.sum(AgentRun.pages_failed), 0),
                func.coalesce(func.sum(AgentRun.drafts_parsed), 0),
                func.coalesce(func.sum(AgentRun.drafts_valid), 0),
                func.coalesce(func.sum(AgentRun.drafts_merged), 0),
            ).where(recent)
        )
    ).one()
    watched = select(SourceAgent.store_id).where(SourceAgent.enabled.is_(True)).distinct()
    stores_watched = await session.scalar(select(func.count()).select_from(watched.subquery()))
    stores_covered = await session.scalar(
        select(func.count(func.distinct(AgentRun.store_id))).where(
            recent,
            AgentRun.status == AgentRunStatus.SUCCESS.value,
            AgentRun.store_id.in_(watched),
        )
    )
    return Quality(
        scraping_success_rate=_share(fetched, fetched + failed, scale=100.0),
        data_quality_score=_share(valid, parsed),
        store_coverage=_share(stores_covered or 0, stores_watched or 0),
        event_dedup_ratio=_share(merged, parsed),
    )


def _share(part: Any, whole: Any, scale: float = 1.0) -> float | None:
    return round(scale * float(part) / float(whole), 6) if whole else None


class GaugeRefresher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        quotas: DailyPages,
        interval: float,
    ) -> None:
        self.sessions = sessions
        self.quotas = quotas
        self._periodic = Periodic("gauge-refresher", self.refresh, interval)

    async def refresh(self) -> None:
        async with self.sessions() as session:
            enabled_agents = (
                await session.execute(
                    select(SourceAgent.id, SourceAgent.rate_limit, SourceAgent.store_id).where(
                        SourceAgent.enabled.is_(True)
                    )
                )
            ).all()
            rules = await session.scalar(select(func.count()).where(AlertRule.enabled.is_(True)))
            figures = await quality(session)

        # This process may run agents too (manual runs): their counters start at 0 here as well.
        prime_agent_series((agent_id, store_id) for agent_id, _, store_id in enabled_agents)
        ACTIVE_AGENTS.set(len(enabled_agents))
        RULES_ACTIVE.set(rules or 0)
        DAILY_PAGES_CAP.set(self.quotas.global_cap)
        DAILY_PAGES_USED.set(await self.quotas.used())
        AGENT_DAILY_PAGES_CAP.replace(
            (
                float(limits.get("daily_pages_cap", DEFAULT_AGENT_DAILY_PAGES_CAP)),
                {"agent_id": agent_id},
            )
            for agent_id, limits, _ in enabled_agents
        )
        AGENT_DAILY_PAGES_USED.replace(
            [
                (await self.quotas.used(agent_id), {"agent_id": agent_id})
                for agent_id, _, _ in enabled_agents
            ]
        )
        _set_or_clear(SCRAPING_SUCCESS_RATE, figures.scraping_success_rate)
        _set_or_clear(DATA_QUALITY_SCORE, figures.data_quality_score)
        _set_or_clear(STORE_COVERAGE, figures.store_coverage)
        _set_or_clear(EVENT_DEDUP_RATIO, figures.event_dedup_ratio)

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()


def _set_or_clear(gauge: Gauge, value: float | None) -> None:
    if value is None:
        gauge.clear()
    else:
        gauge.set(value)
