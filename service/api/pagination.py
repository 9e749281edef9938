"""Bounded pagination: offset pages for small collections, keyset cursors for growing ones."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from service.api.errors import invalid
from service.schemas.common import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
]


async def offset_page(
    session: AsyncSession, stmt: Select[Any], *, limit: int, offset: int
) -> dict[str, Any]:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = (await session.scalars(stmt.limit(limit).offset(offset))).all()
    return {"items": items, "total": total or 0, "limit": limit, "offset": offset}


async def keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    sort: InstrumentedAttribute[datetime],
    key: InstrumentedAttribute[int],
    descending: bool,
    cursor: str | None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> dict[str, Any]:
    """Order by (sort, key) and continue after ``cursor``: stable while rows are added."""
    if cursor is not None:
        after_sort, after_key = decode_cursor(cursor)
        stmt = stmt.where(_after(sort, key, after_sort, after_key, descending))
    order = (sort.desc(), key.desc()) if descending else (sort.asc(), key.asc())
    rows = (await session.scalars(stmt.order_by(*order).limit(limit + 1))).all()
    items, more = rows[:limit], len(rows) > limit
    next_cursor = None
    if more:
        last = items[-1]
        next_cursor = encode_cursor(getattr(last, sort.key), getattr(last, key.key))
    return {"items": items, "next_cursor": next_cursor}


def _after(
    sort: InstrumentedAttribute[datetime],
    key: InstrumentedAttribute[int],
    sort_value: datetime,
    key_value: int,
    descending: bool,
) -> ColumnElement[bool]:
    if descending:
        return or_(sort < sort_value, and_(sort == sort_value, key < key_value))
    return or_(sort > sort_value, and_(sort == sort_value, key > key_value))


def encode_cursor(sort_value: datetime, key_value: int) -> str:
    raw = json.dumps([sort_value.isoformat(), key_value]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_text, key_value = json.loads(raw)
        sort_value = datetime.fromisoformat(sort_text)
        if sort_value.tzinfo is None or type(key_value) is not int:
            raise ValueError
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise invalid(("query", "cursor"), "not a cursor this API issued") from exc
    return sort_value, key_value
