"""The figures behind /api/metrics/stats: from the database, the quota counters and the meters."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AgentRun, AlertRule, ListingEvent, Notification, SourceAgent
from service.quotas import DailyPages
from telemetry.instruments import API_REQUESTS, API_RESPONSE_TIME
from telemetry.prometheus import PrometheusBridge
from telemetry.readout import counter_total, histogram_buckets, histogram_quantile

WINDOW = timedelta(hours=24)


async def collect_stats(
    session: AsyncSession, quotas: DailyPages, bridge: PrometheusBridge
) -> dict[str, Any]:
    since = datetime.now(UTC) - WINDOW
    agents = (
        await session.execute(select(SourceAgent.id, SourceAgent.enabled, SourceAgent.rate_limit))
    ).all()
    runs = dict(
        (
            await session.execute(
                select(AgentRun.status, func.count())
                .where(AgentRun.started_at >= since)
                .group_by(AgentRun.status)
            )
        ).all()
    )
    events = dict(
        (
            await session.execute(
                select(ListingEvent.kind, func.count())
                .where(ListingEvent.first_seen_at >= since)
                .group_by(ListingEvent.kind)
            )
        ).all()
    )
    notifications: dict[str, dict[str, int]] = defaultdict(dict)
    for channel, status, count in (
        await session.execute(
            select(Notification.channel, Notification.status, func.count())
            .where(Notification.created_at >= since)
            .group_by(Notification.channel, Notification.status)
        )
    ).all():
        notifications[channel][status] = count
    rules_active = await session.scalar(select(func.count()).where(AlertRule.enabled.is_(True)))

    enabled = [(agent_id, limits) for agent_id, on, limits in agents if on]
    snapshot = bridge.snapshot()
    p95 = histogram_quantile(0.95, histogram_buckets(snapshot, API_RESPONSE_TIME.otel_name))
    return {
        "window_hours": int(WINDOW.total_seconds() // 3600),
        "agents": {
            "total": len(agents),
            "enabled": len(enabled),
            "runs_24h": runs,
            "pages_today": {
                "used": await quotas.used(),
                "cap": quotas.global_cap,
                "by_agent": {
                    agent_id: {
                        "used": await quotas.used(agent_id),
                        "cap": limits.get("daily_pages_cap"),
                    }
                    for agent_id, limits in enabled
                },
            },
        },
        "events_24h": events,
        "notifications_24h": dict(notifications),
        "rules_active": rules_active or 0,
        "api": {
            "requests": int(counter_total(snapshot, API_REQUESTS.otel_name)),
            "p95_latency_seconds": None if p95 is None else round(p95, 6),
        },
    }
