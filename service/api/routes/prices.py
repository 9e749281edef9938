"""Price history: every observed price of a game at a store, oldest first (chart order)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from service.api.deps import SessionDep, SettingsDep
from service.api.pagination import Cursor, Limit, keyset_page
from service.api.timerange import From, To, aware
from service.db.models import PriceHistory
from service.schemas.common import DEFAULT_PAGE_SIZE, MAX_ID, CursorPage
from service.schemas.history import PriceRead

router = APIRouter(prefix="/api/prices", tags=["prices"])


@router.get("", response_model=CursorPage[PriceRead])
async def list_prices(
    session: SessionDep,
    settings: SettingsDep,
    game_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    store_id: Annotated[str | None, Query(max_length=64)] = None,
    from_: From = None,
    to: To = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> dict[str, object]:
    stmt = select(PriceHistory)
    if game_id is not None:
        stmt = stmt.where(PriceHistory.game_id == game_id)
    if store_id is not None:
        stmt = stmt.where(PriceHistory.store_id == store_id)
    if (start := aware(from_, settings.tz, "from")) is not None:
        stmt = stmt.where(PriceHistory.observed_at >= start)
    if (end := aware(to, settings.tz, "to")) is not None:
        stmt = stmt.where(PriceHistory.observed_at < end)
    return await keyset_page(
        session,
        stmt,
        sort=PriceHistory.observed_at,
        key=PriceHistory.id,
        descending=False,
        cursor=cursor,
        limit=limit,
    )
