"""The notification machinery a process runs: its channels (from the settings) and the
dispatcher that sends the outbox over them."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.config import Settings
from service.domain import Channel as ChannelName
from service.notifications.channels import Channel, build_channels, secret_urls
from service.notifications.dispatcher import DeliveryPolicy, Dispatcher
from telemetry.redaction import hide_url_prefix


@dataclass
class Notifications:
    channels: dict[ChannelName, Channel]
    dispatcher: Dispatcher
    http: httpx.AsyncClient

    async def aclose(self) -> None:
        await self.dispatcher.stop()
        await self.http.aclose()


def build_notifications(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> Notifications:
    http = httpx.AsyncClient(timeout=settings.notify_timeout_seconds)
    channels = build_channels(settings, http)
    for url in secret_urls(channels):
        hide_url_prefix(url)
    policy = DeliveryPolicy(
        max_attempts=settings.notify_max_attempts,
        backoff_seconds=settings.notify_backoff_seconds,
        backoff_max_seconds=settings.notify_backoff_max_seconds,
        timeout_seconds=settings.notify_timeout_seconds,
        lease_seconds=settings.notify_lease_seconds,
    )
    dispatcher = Dispatcher(
        sessions, channels, policy, tick_seconds=settings.dispatcher_tick_seconds
    )
    return Notifications(channels, dispatcher, http)
