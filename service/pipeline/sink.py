"""Where new events go next: the rules engine (rules issue) implements ``EventSink``.

``on_events`` runs inside the transaction that stores the events, so what it writes (the
notification outbox) commits or rolls back with them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import ListingEvent


class EventSink(Protocol):
    async def on_events(self, session: AsyncSession, events: Sequence[ListingEvent]) -> None: ...


class NoSink:
    """Until rules exist: events are stored and nothing else happens."""

    async def on_events(self, session: AsyncSession, events: Sequence[ListingEvent]) -> None:
        return None
