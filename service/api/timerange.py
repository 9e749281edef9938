"""``from``/``to`` query parameters. A time without an offset is read in BGW's time zone
(Europe/Moscow by default), as a user in that zone would mean it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Query

from service.api.errors import invalid

From = Annotated[
    datetime | None,
    Query(alias="from", description="Inclusive start, ISO 8601 (date or date-time)."),
]
To = Annotated[datetime | None, Query(description="Exclusive end, ISO 8601 (date or date-time).")]


def aware(value: datetime | None, zone: ZoneInfo, name: str) -> datetime | None:
    """The instant in UTC; a 422 naming the parameter when it cannot be one (year 1 minus an
    offset is before the calendar starts)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise invalid(("query", name), "date is out of range") from exc
