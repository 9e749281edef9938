"""Drafts become events: match to the watchlist, merge repeats, store new events and prices.

The signature of a listing is its normalised title, store, edition, kind and price rounded to
10 ₽. A repeat seen within 72 h only moves ``last_seen_at``; after a longer silence the listing
is news again and becomes a new event. A price different from the last one recorded for the
game at the store is a price-history row, and a ``price`` event when nothing else marks it
(only for listings of the game itself, not of an expansion whose title contains it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.agents.drafts import Draft
from service.db.models import ListingEvent, PriceHistory
from service.domain import AgentMode, EventKind
from service.pipeline.matching import Match, Watchlist
from service.pipeline.normalize import normalize_title
from telemetry.instruments import EVENTS_CREATED
from telemetry.tracing import EVENT_KIND, STORE_ID, traced

REPEAT_WINDOW = timedelta(hours=72)
PRICE_STEP = Decimal("10")


@dataclass
class PipelineStats:
    parsed: int = 0
    valid: int = 0
    merged: int = 0
    events: list[ListingEvent] = field(default_factory=list)


def signature(draft: Draft, store_id: str, kind: EventKind) -> str:
    title = normalize_title(draft.title)
    price = (
        ""
        if draft.price is None
        else str((draft.price / PRICE_STEP).quantize(Decimal("1"), ROUND_HALF_UP) * PRICE_STEP)
    )
    raw = "|".join((title.key, store_id, title.edition or "", kind.value, price))
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class EventStore:
    session: AsyncSession
    watchlist: Watchlist
    store_id: str
    source_id: str
    currency: str
    mode: AgentMode
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    async def process(
        self, drafts: Sequence[Draft], matches: dict[str, Match] | None = None
    ) -> PipelineStats:
        """Store what ``drafts`` say; ``matches`` (by title) overrides the fuzzy match, e.g.
        with the LLM's verdict."""
        stats = PipelineStats(parsed=len(drafts), valid=sum(d.is_valid for d in drafts))
        for draft in drafts:
            with traced("pipeline.match", {STORE_ID: self.store_id}) as span:
                match = (matches or {}).get(draft.title) or self.watchlist.match(draft.title)
                span.set_attribute("bgw.match.score", match.score)
            if match.game_id is None and self.mode is AgentMode.SEARCH:
                continue  # a catalog page lists far more than the watchlist
            price_changed = await self._record_price(match, draft)
            kind = draft.kind or (EventKind.PRICE if price_changed else None)
            if kind is None:
                continue
            with traced("pipeline.dedup", {STORE_ID: self.store_id, EVENT_KIND: kind.value}):
                event = await self._merge_or_create(draft, match.game_id, kind)
            if event is None:
                stats.merged += 1
            else:
                stats.events.append(event)
        return stats

    async def _merge_or_create(
        self, draft: Draft, game_id: int | None, kind: EventKind
    ) -> ListingEvent | None:
        sig = signature(draft, self.store_id, kind)
        existing = await self.session.scalar(
            select(ListingEvent).where(ListingEvent.signature_hash == sig)
        )
        if existing is not None:
            if self.now - existing.last_seen_at <= REPEAT_WINDOW:
                existing.last_seen_at = self.now
                existing.in_stock = draft.in_stock
                return None
            # Silent for longer than the window: retire its signature, the listing is news.
            existing.signature_hash = hashlib.sha256(f"{sig}:{existing.id}".encode()).hexdigest()
            await self.session.flush()
        with traced("event.create", {STORE_ID: self.store_id, EVENT_KIND: kind.value}):
            event = ListingEvent(
                game_id=game_id,
                store_id=self.store_id,
                kind=kind.value,
                title=draft.title,
                edition=normalize_title(draft.title).edition,
                price=draft.price,
                currency=self.currency,
                discount_pct=draft.discount_pct,
                in_stock=draft.in_stock,
                url=draft.url,
                source_id=self.source_id,
                signature_hash=sig,
                first_seen_at=self.now,
                last_seen_at=self.now,
            )
            self.session.add(event)
            await self.session.flush()
        EVENTS_CREATED.add(1, {"event_type": kind.value, "store_id": self.store_id})
        return event

    async def _record_price(self, match: Match, draft: Draft) -> bool:
        """Add a price-history row when the price differs from the last one; True if it did
        (a first observation is history, not a change). Only the game itself counts: an
        expansion's price is not the game's."""
        if not match.exact or draft.price is None:
            return False
        game_id = match.game_id
        last = await self.session.scalar(
            select(PriceHistory.price)
            .where(PriceHistory.game_id == game_id, PriceHistory.store_id == self.store_id)
            .order_by(PriceHistory.observed_at.desc(), PriceHistory.id.desc())
            .limit(1)
        )
        if last is not None and Decimal(last) == draft.price:
            return False
        self.session.add(
            PriceHistory(
                game_id=game_id,
                store_id=self.store_id,
                observed_at=self.now,
                price=draft.price,
                currency=self.currency,
            )
        )
        return last is not None
