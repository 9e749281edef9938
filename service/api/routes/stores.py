"""Stores: the shops and publications BGW watches."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from sqlalchemy import func, select

from service.api.crud import apply_changes, changes_of, get_or_404
from service.api.deps import SessionDep
from service.api.errors import conflict
from service.api.pagination import Limit, Offset, offset_page
from service.db.models import ListingEvent, PriceHistory, SourceAgent, Store
from service.schemas.common import DEFAULT_PAGE_SIZE, Page
from service.schemas.stores import StoreCreate, StoreRead, StoreUpdate

router = APIRouter(prefix="/api/stores", tags=["stores"])

StoreId = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("", response_model=Page[StoreRead])
async def list_stores(
    session: SessionDep, limit: Limit = DEFAULT_PAGE_SIZE, offset: Offset = 0
) -> dict[str, object]:
    return await offset_page(session, select(Store).order_by(Store.id), limit=limit, offset=offset)


@router.post("", response_model=StoreRead, status_code=status.HTTP_201_CREATED)
async def create_store(body: StoreCreate, session: SessionDep) -> Store:
    if await session.get(Store, body.id) is not None:
        raise conflict(f"store {body.id!r} already exists")
    store = Store(**body.model_dump())
    session.add(store)
    await session.commit()
    return store


@router.get("/{store_id}", response_model=StoreRead)
async def get_store(store_id: StoreId, session: SessionDep) -> Store:
    return await get_or_404(session, Store, store_id, "store")


@router.patch("/{store_id}", response_model=StoreRead)
async def update_store(store_id: StoreId, body: StoreUpdate, session: SessionDep) -> Store:
    store = await get_or_404(session, Store, store_id, "store")
    apply_changes(store, changes_of(body))
    await session.commit()
    return store


@router.delete("/{store_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_store(store_id: StoreId, session: SessionDep) -> None:
    """Delete a store that nothing refers to; a store with agents or history answers 409."""
    store = await get_or_404(session, Store, store_id, "store")
    dependents = {
        "agents": SourceAgent.store_id,
        "events": ListingEvent.store_id,
        "prices": PriceHistory.store_id,
    }
    counts = {
        name: await session.scalar(select(func.count()).where(column == store_id)) or 0
        for name, column in dependents.items()
    }
    if any(counts.values()):
        held = ", ".join(f"{count} {name}" for name, count in counts.items() if count)
        raise conflict(f"store {store_id!r} still has {held}; it cannot be deleted")
    await session.delete(store)
    await session.commit()
