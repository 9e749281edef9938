"""Daily page quotas: one global cap and one per agent, counted per local calendar day.

Counters live in the coordinator (Redis across replicas, in process on the embedded default)
under ``pages:<date>:global`` and ``pages:<date>:agent:<id>`` and expire at local midnight, so a
new day starts from zero without a cleanup job.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.coordination import Coordinator


class DailyPages:
    def __init__(self, coordinator: Coordinator, zone: ZoneInfo, global_cap: int) -> None:
        self.coordinator = coordinator
        self.zone = zone
        self.global_cap = global_cap

    def today(self, now: datetime | None = None) -> str:
        return (now or datetime.now(self.zone)).astimezone(self.zone).date().isoformat()

    def next_midnight(self, now: datetime | None = None) -> datetime:
        local = (now or datetime.now(self.zone)).astimezone(self.zone)
        return datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=self.zone)

    def key(self, agent_id: str | None = None, now: datetime | None = None) -> str:
        scope = f"agent:{agent_id}" if agent_id else "global"
        return f"pages:{self.today(now)}:{scope}"

    async def used(self, agent_id: str | None = None) -> int:
        """Pages fetched today, globally or by one agent."""
        return await self.coordinator.get(self.key(agent_id))

    async def record(self, agent_id: str, pages: int = 1) -> tuple[int, int]:
        """Count fetched pages; returns today's (global, agent) totals after counting."""
        expiry = self.next_midnight()
        total = await self.coordinator.incr(self.key(), pages, expire_at=expiry)
        own = await self.coordinator.incr(self.key(agent_id), pages, expire_at=expiry)
        return total, own
