"""Dependencies as ``Annotated`` aliases, so route signatures say what a route needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from service.config import Settings
from service.coordination import Coordinator
from service.notifications.setup import Notifications
from service.quotas import DailyPages


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_coordinator(request: Request) -> Coordinator:
    return request.app.state.coordinator


def get_quotas(request: Request) -> DailyPages:
    return request.app.state.quotas


def get_notifications(request: Request) -> Notifications:
    return request.app.state.notifications


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CoordinatorDep = Annotated[Coordinator, Depends(get_coordinator)]
QuotasDep = Annotated[DailyPages, Depends(get_quotas)]
NotificationsDep = Annotated[Notifications, Depends(get_notifications)]
