"""The delivery log (every notification and where it stands, read-only) and a test send per
channel."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel
from sqlalchemy import select

from service.api.crud import get_or_404
from service.api.deps import NotificationsDep, SessionDep
from service.api.pagination import Cursor, Limit, keyset_page
from service.db.models import Notification
from service.domain import Channel, NotificationStatus
from service.notifications.channels import ChannelNotConfigured, DeliveryError
from service.notifications.dispatcher import send_once
from service.notifications.message import sample_message
from service.schemas.common import DEFAULT_PAGE_SIZE, MAX_ID, CursorPage
from service.schemas.history import NotificationRead
from telemetry.tracing import CHANNEL, traced

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


class ChannelTestResult(BaseModel):
    channel: Channel
    delivered: bool
    provider_ref: str | None
    text: str


@router.post(
    "/test/{channel}",
    response_model=ChannelTestResult,
    responses={409: {"description": "not configured"}, 502: {"description": "provider failed"}},
)
async def send_test(channel: Channel, notifications: NotificationsDep) -> ChannelTestResult:
    """Send a sample message over `channel` now and report the provider's answer.

    It is a real send: it counts in notifications_sent_total like any other."""
    message = sample_message()
    sender = notifications.channels.get(channel)
    try:
        if sender is None:
            raise ChannelNotConfigured(channel)
        with traced("notification.send", {CHANNEL: channel.value, "bgw.notification.test": True}):
            receipt = await send_once(
                sender,
                message,
                f"bgw-test-{uuid.uuid4().hex}",
                notifications.dispatcher.policy.timeout_seconds,
            )
    except ChannelNotConfigured as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, exc.reason) from exc
    except DeliveryError as exc:
        raise HTTPException(
            status.HTTP_502_BAD_GATEWAY, f"{channel.value} did not deliver: {exc.reason}"
        ) from exc
    return ChannelTestResult(
        channel=channel, delivered=True, provider_ref=receipt.provider_ref, text=message.text
    )
