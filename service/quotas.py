"""Daily page quotas: one global cap and one per agent, counted per local calendar day.

Counters live in the coordinator (Redis across replicas, in process on the embedded default)
under ``pages:<date>:global`` and ``pages:<date>:agent:<id>`` and expire at local midnight, so a
new day starts from zero without a cleanup job.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.coordination import Coordinator


class QuotaExceeded(Exception):
    """A daily cap is reached; ``scope`` is ``global`` or ``agent``."""

    def __init__(self, scope: str, used: int, cap: int) -> None:
        super().__init__(f"daily {scope} page cap reached ({cap} pages)")
        self.scope = scope
        self.used = used
        self.cap = cap


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

    async def reserve(self, agent_id: str, agent_cap: int) -> None:
        """Take one page from today's budgets, or raise :class:`QuotaExceeded` and take nothing.

        Counting first and giving back on overrun keeps the check atomic across replicas: two
        workers racing for the last page cannot both get it."""
        total, own = await self.record(agent_id)
        if total > self.global_cap or own > agent_cap:
            await self.record(agent_id, -1)
            if total > self.global_cap:
                raise QuotaExceeded("global", total - 1, self.global_cap)
            raise QuotaExceeded("agent", own - 1, agent_cap)

    async def record(self, agent_id: str, pages: int = 1) -> tuple[int, int]:
        """Count fetched pages; returns today's (global, agent) totals after counting."""
        expiry = self.next_midnight()
        total = await self.coordinator.incr(self.key(), pages, expire_at=expiry)
        own = await self.coordinator.incr(self.key(agent_id), pages, expire_at=expiry)
        return total, own
