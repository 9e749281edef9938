"""Loading what rules look at: each event with its game's title and its store's region."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Game, ListingEvent, Store
from service.rules.engine import EventFacts


async def load_facts(session: AsyncSession, events: Sequence[ListingEvent]) -> list[EventFacts]:
    game_ids = {e.game_id for e in events if e.game_id is not None}
    store_ids = {e.store_id for e in events}
    titles = (
        dict(
            (await session.execute(select(Game.id, Game.title).where(Game.id.in_(game_ids)))).all()
        )
        if game_ids
        else {}
    )
    regions = dict(
        (await session.execute(select(Store.id, Store.region).where(Store.id.in_(store_ids)))).all()
    )
    return [
        EventFacts(
            event_id=e.id,
            game_id=e.game_id,
            game_title=titles.get(e.game_id) if e.game_id is not None else None,
            title=e.title,
            kind=e.kind,
            price=e.price,
            discount_pct=e.discount_pct,
            store_id=e.store_id,
            region=regions.get(e.store_id, "RU"),
            in_stock=e.in_stock,
        )
        for e in events
    ]
