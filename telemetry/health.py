"""Health checks run in the background, cached, and published as gauges.

Each component has an async check that raises when the component is unwell. The monitor runs all
checks concurrently every ``interval`` seconds, with a timeout each, keeps the last report for the
``/api/metrics/health`` route (which therefore never hammers a dependency), and sets
``component_health{component}`` and ``system_health``.

Overall status: ``down`` when a critical component is down, ``degraded`` when only a non-critical
one is, ``ok`` otherwise.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from telemetry.instruments import COMPONENT_HEALTH, SYSTEM_HEALTH
from telemetry.periodic import Periodic

Check = Callable[[], Awaitable[None]]
Status = Literal["ok", "degraded", "down"]


@dataclass(frozen=True)
class Component:
    name: str
    check: Check
    critical: bool
    timeout: float = 5.0


@dataclass(frozen=True)
class ComponentReport:
    status: Literal["ok", "down"]
    critical: bool
    latency_ms: float
    error: str | None = None


@dataclass(frozen=True)
class HealthReport:
    status: Status
    components: dict[str, ComponentReport]
    checked_at: float = field(default_factory=time.time)

    @property
    def http_status(self) -> int:
        return 503 if self.status == "down" else 200


class HealthMonitor:
    def __init__(self, components: Sequence[Component], interval: float) -> None:
        self.components = list(components)
        self.interval = interval
        self._report: HealthReport | None = None
        self._lock = asyncio.Lock()
        self._periodic = Periodic("health-monitor", self.check_now, interval)

    async def check_now(self) -> HealthReport:
        """Run every check once, publish the gauges, keep and return the report."""
        async with self._lock:
            return await self._round()

    async def report(self) -> HealthReport:
        """The last report. Only when there is none yet, or it is older than two intervals (the
        background loop is not running), do the checks run for this caller — once, however many
        callers wait."""
        if self._fresh():
            assert self._report is not None
            return self._report
        async with self._lock:
            if self._fresh():
                assert self._report is not None
                return self._report
            return await self._round()

    def _fresh(self) -> bool:
        return (
            self._report is not None and time.time() - self._report.checked_at < 2 * self.interval
        )

    async def _round(self) -> HealthReport:
        results = await asyncio.gather(*(self._run(c) for c in self.components))
        reports = dict(zip((c.name for c in self.components), results, strict=True))
        report = HealthReport(_overall(reports), reports)
        self._publish(report)
        self._report = report
        return report

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()

    @staticmethod
    async def _run(component: Component) -> ComponentReport:
        start = time.perf_counter()
        try:
            await asyncio.wait_for(component.check(), component.timeout)
        except TimeoutError:
            error: str | None = f"no answer within {component.timeout:g} s"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}".strip()[:500]
        else:
            error = None
        latency = round((time.perf_counter() - start) * 1000, 2)
        status: Literal["ok", "down"] = "ok" if error is None else "down"
        return ComponentReport(status, component.critical, latency, error)

    @staticmethod
    def _publish(report: HealthReport) -> None:
        COMPONENT_HEALTH.replace(
            (1.0 if c.status == "ok" else 0.0, {"component": name})
            for name, c in report.components.items()
        )
        SYSTEM_HEALTH.set(0.0 if report.status == "down" else 1.0)


def _overall(reports: dict[str, ComponentReport]) -> Status:
    down = [r for r in reports.values() if r.status == "down"]
    if any(r.critical for r in down):
        return "down"
    return "degraded" if down else "ok"
