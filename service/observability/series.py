"""Counter series that exist before their first increment.

Prometheus cannot see a counter's first increment when the series appears already at 1:
``rate()`` and ``increase()`` need an earlier sample. For the bounded label sets that an
enabled agent will use (its runs by status, its pages, and events of every kind at its store),
the series are created at 0 ahead of time, by whichever process runs agents."""

from __future__ import annotations

from collections.abc import Iterable

from service.domain import EventKind
from telemetry.instruments import (
    AGENT_PAGES_FETCHED,
    AGENT_RUN_STATUSES,
    AGENT_RUNS,
    EVENTS_CREATED,
)


def prime_agent_series(agents: Iterable[tuple[str, str]]) -> None:
    """Create at 0 the counter series of each enabled ``(agent_id, store_id)``. Adding 0 to an
    existing series changes nothing, so calling it on every scheduler tick is safe."""
    stores: set[str] = set()
    for agent_id, store_id in agents:
        for status in AGENT_RUN_STATUSES:
            AGENT_RUNS.add(0, {"agent_id": agent_id, "status": status})
        AGENT_PAGES_FETCHED.add(0, {"agent_id": agent_id})
        stores.add(store_id)
    for store_id in stores:
        for kind in EventKind:
            EVENTS_CREATED.add(0, {"event_type": kind.value, "store_id": store_id})
