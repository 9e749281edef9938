"""Listing events: what stores did with watched games. Read-only; agents create them."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from service.api.crud import get_or_404
from service.api.deps import SessionDep, SettingsDep
from service.api.pagination import Cursor, Limit, keyset_page
from service.api.timerange import From, To, aware
from service.db.models import ListingEvent
from service.domain import EventKind
from service.schemas.common import DEFAULT_PAGE_SIZE, MAX_ID, CursorPage
from service.schemas.history import EventRead

router = APIRouter(prefix="/api/events", tags=["events"])


@router.get("", response_model=CursorPage[EventRead])
async def list_events(
    session: SessionDep,
    settings: SettingsDep,
    game_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
    kind: EventKind | None = None,
    from_: From = None,
    to: To = None,
    min_discount: Annotated[Decimal | None, Query(ge=0, le=100)] = None,
    max_price: Annotated[Decimal | None, Query(ge=0, le=10**10)] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> dict[str, object]:
    """Newest first (by first seen), filtered; follow `next_cursor` for older events."""
    stmt = select(ListingEvent)
    if game_id is not None:
        stmt = stmt.where(ListingEvent.game_id == game_id)
    if store_id is not None:
        stmt = stmt.where(ListingEvent.store_id == store_id)
    if kind is not None:
        stmt = stmt.where(ListingEvent.kind == kind.value)
    if (start := aware(from_, settings.tz, "from")) is not None:
        stmt = stmt.where(ListingEvent.first_seen_at >= start)
    if (end := aware(to, settings.tz, "to")) is not None:
        stmt = stmt.where(ListingEvent.first_seen_at < end)
    if min_discount is not None:
        stmt = stmt.where(ListingEvent.discount_pct >= min_discount)
    if max_price is not None:
        stmt = stmt.where(ListingEvent.price <= max_price)
    return await keyset_page(
        session,
        stmt,
        sort=ListingEvent.first_seen_at,
        key=ListingEvent.id,
        descending=True,
        cursor=cursor,
        limit=limit,
    )


@router.get("/{event_id}", response_model=EventRead)
async def get_event(
    event_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep
) -> ListingEvent:
    return await get_or_404(session, ListingEvent, event_id, "event")
