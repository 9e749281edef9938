"""The delivery log: every notification and where it stands. Read-only here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import select

from service.api.crud import get_or_404
from service.api.deps import SessionDep
from service.api.pagination import Cursor, Limit, keyset_page
from service.db.models import Notification
from service.domain import Channel, NotificationStatus
from service.schemas.common import DEFAULT_PAGE_SIZE, MAX_ID, CursorPage
from service.schemas.history import NotificationRead

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


@router.get("", response_model=CursorPage[NotificationRead])
async def list_notifications(
    session: SessionDep,
    status: NotificationStatus | None = None,
    channel: Channel | None = None,
    rule_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    event_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> dict[str, object]:
    """Newest first; follow `next_cursor` for older ones."""
    stmt = select(Notification)
    if status is not None:
        stmt = stmt.where(Notification.status == status.value)
    if channel is not None:
        stmt = stmt.where(Notification.channel == channel.value)
    if rule_id is not None:
        stmt = stmt.where(Notification.rule_id == rule_id)
    if event_id is not None:
        stmt = stmt.where(Notification.event_id == event_id)
    return await keyset_page(
        session,
        stmt,
        sort=Notification.created_at,
        key=Notification.id,
        descending=True,
        cursor=cursor,
        limit=limit,
    )


@router.get("/{notification_id}", response_model=NotificationRead)
async def get_notification(
    notification_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep
) -> Notification:
    return await get_or_404(session, Notification, notification_id, "notification")
