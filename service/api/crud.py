"""The few steps every resource router repeats: look up or 404, apply a partial update."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from service.api.errors import invalid, not_found
from service.db.models import Base
from service.schemas.common import InputModel

ModelT = TypeVar("ModelT", bound=Base)


async def get_or_404(session: AsyncSession, model: type[ModelT], key: Any, entity: str) -> ModelT:
    row = await session.get(model, key)
    if row is None:
        raise not_found(entity, key)
    return row


def changes_of(update: InputModel) -> dict[str, Any]:
    """The fields a PATCH body set, as JSON-ready values."""
    return update.model_dump(exclude_unset=True, mode="json")


def apply_changes(row: Base, changes: dict[str, Any]) -> None:
    """Set the changed columns; an explicit null on a required column is a 422, not a 500."""
    columns = inspect(type(row)).columns
    for name, value in changes.items():
        if value is None and not columns[name].nullable:
            raise invalid(("body", name), "may not be null")
        setattr(row, name, value)
