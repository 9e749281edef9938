"""Read-only views of what BGW observed and sent: events, prices, notifications."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from service.domain import Channel, EventKind, NotificationStatus
from service.schemas.common import ReadModel


class EventRead(ReadModel):
    id: int
    game_id: int | None
    store_id: str
    kind: EventKind
    title: str
    edition: str | None
    price: Decimal | None
    currency: str
    discount_pct: Decimal | None
    in_stock: bool | None
    url: str
    source_id: str | None
    first_seen_at: datetime
    last_seen_at: datetime


class PriceRead(ReadModel):
    id: int
    game_id: int | None
    store_id: str
    observed_at: datetime
    price: Decimal
    currency: str


class NotificationRead(ReadModel):
    id: int
    rule_id: int | None
    event_id: int
    channel: Channel
    status: NotificationStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    next_attempt_at: datetime
    provider_ref: str | None
