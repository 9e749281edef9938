"""The dispatcher: sends the notification outbox, once each, to confirmation.

The rules write notifications in the transaction that stores their events (``pending``, or
``deferred`` until quiet hours end). The dispatcher, in the worker (and in ``bgw serve`` on the
embedded default), repeatedly:

1. **claims** due rows, each with one conditional UPDATE (``pending``/``deferred`` whose time
   has come, or ``sent`` whose claim expired because its dispatcher died) that sets ``sent``, a
   claim deadline and ``attempts + 1`` — two dispatchers cannot both win a row, on SQLite or
   PostgreSQL;
2. **sends** each over its channel inside a ``notification.send`` span that continues the
   trace the event was created in;
3. **records** the outcome, guarded by the claim: ``delivered`` when the provider confirmed;
   back to ``pending`` with an exponential backoff (or the provider's Retry-After) when trying
   again can help; ``failed`` with ``last_error`` after the last attempt or a permanent refusal.

Nothing is lost on restart: a pending or deferred row waits in the table, and a claimed row whose
dispatcher died is claimed again when its deadline passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from service.db.models import AlertRule, Game, ListingEvent, Notification, Store
from service.domain import Channel as ChannelName
from service.domain import EventKind, NotificationStatus
from service.notifications.channels import (
    Channel,
    ChannelNotConfigured,
    DeliveryError,
    Receipt,
)
from service.notifications.message import Message
from telemetry.instruments import NOTIFICATIONS_DELIVERED, NOTIFICATIONS_SENT
from telemetry.tracing import CHANNEL, RULE_ID, traced

log = structlog.get_logger("bgw.notifications")

ERROR_LIMIT = 1000  # characters of last_error kept


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 6
    backoff_seconds: float = 10.0
    backoff_max_seconds: float = 1800.0
    timeout_seconds: float = 15.0
    lease_seconds: float = 120.0

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        """Delay before the next attempt: doubling from the base, ±10 % jitter so a burst of
        failures does not return in lockstep; never sooner than the provider asked."""
        delay = min(self.backoff_max_seconds, self.backoff_seconds * 2 ** max(0, attempts - 1))
        delay *= random.uniform(0.9, 1.1)  # noqa: S311 - jitter, not cryptography
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay


@dataclass(frozen=True)
class Claim:
    id: int
    channel: str
    rule_id: int | None
    attempts: int
    trace_parent: str | None
    message: Message

    @property
    def key(self) -> str:
        return f"bgw-notification-{self.id}"


async def send_once(channel: Channel, message: Message, key: str, limit_seconds: float) -> Receipt:
    """One attempt over ``channel``, bounded in time; counted in the catalog."""
    try:
        async with asyncio.timeout(limit_seconds):
            receipt = await channel.send(message, key)
    except TimeoutError as exc:
        NOTIFICATIONS_SENT.add(1, {"channel": channel.name.value, "status": "error"})
        raise DeliveryError(f"no answer within {limit_seconds:g} s") from exc
    except DeliveryError:
        NOTIFICATIONS_SENT.add(1, {"channel": channel.name.value, "status": "error"})
        raise
    NOTIFICATIONS_SENT.add(1, {"channel": channel.name.value, "status": "success"})
    NOTIFICATIONS_DELIVERED.add(1, {"channel": channel.name.value})
    return receipt


class Dispatcher:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: Mapping[ChannelName, Channel],
        policy: DeliveryPolicy | None = None,
        *,
        tick_seconds: float = 2.0,
        batch_size: int = 50,
        concurrency: int = 8,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.policy = policy or DeliveryPolicy()
        self.tick_seconds = tick_seconds
        self.batch_size = batch_size
        self._slots = asyncio.Semaphore(concurrency)
        self._task: asyncio.Task[None] | None = None

    # -- the loop ------------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="notification-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                while await self.dispatch_due() == self.batch_size:
                    pass  # a full batch: more may be waiting
            except Exception:
                log.exception("dispatching failed; retrying at the next tick")
            await asyncio.sleep(self.tick_seconds)

    # -- one pass ------------------------------------------------------------------------------

    async def dispatch_due(self, now: datetime | None = None) -> int:
        """Claim what is due and send it; the number of notifications handled."""
        claims = await self.claim_due(now or datetime.now(UTC))
        if claims:
            await asyncio.gather(*(self._deliver(claim) for claim in claims))
        return len(claims)

    async def claim_due(self, now: datetime) -> list[Claim]:
        due = or_(
            and_(
                Notification.status.in_(
                    [NotificationStatus.PENDING.value, NotificationStatus.DEFERRED.value]
                ),
                Notification.next_attempt_at <= now,
            ),
            # Claimed by a dispatcher that did not come back in time: it died mid-send.
            and_(
                Notification.status == NotificationStatus.SENT.value,
                Notification.next_attempt_at <= now,
            ),
        )
        deadline = now + timedelta(seconds=self.policy.lease_seconds)
        async with self.sessions() as session:
            candidates = (
                await session.scalars(
                    select(Notification.id)
                    .where(due)
                    .order_by(Notification.next_attempt_at, Notification.id)
                    .limit(self.batch_size)
                )
            ).all()
            claimed: list[int] = []
            for notification_id in candidates:
                result = await session.execute(
                    update(Notification)
                    .where(Notification.id == notification_id, due)
                    .values(
                        status=NotificationStatus.SENT.value,
                        attempts=Notification.attempts + 1,
                        sent_at=now,
                        next_attempt_at=deadline,
                    )
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(notification_id)
            claims = await self._load(session, claimed) if claimed else []
            await session.commit()
        return claims

    @staticmethod
    async def _load(session: AsyncSession, ids: Sequence[int]) -> list[Claim]:
        game = aliased(Game)
        rule = aliased(AlertRule)
        rows = await session.execute(
            select(Notification, ListingEvent, Store.name, game.title, rule.name)
            .join(ListingEvent, ListingEvent.id == Notification.event_id)
            .join(Store, Store.id == ListingEvent.store_id)
            .outerjoin(game, game.id == ListingEvent.game_id)
            .outerjoin(rule, rule.id == Notification.rule_id)
            .where(Notification.id.in_(ids))
            .execution_options(populate_existing=True)
        )
        claims = []
        for notification, event, store_name, game_title, rule_name in rows.all():
            message = Message(
                game=game_title or event.title,
                kind=EventKind(event.kind),
                store=store_name,
                url=event.url,
                price=event.price,
                currency=event.currency,
                discount_pct=event.discount_pct,
                in_stock=event.in_stock,
                event_id=event.id,
                rule_id=notification.rule_id,
                rule_name=rule_name,
                listing_title=event.title,
                store_id=event.store_id,
            )
            claims.append(
                Claim(
                    id=notification.id,
                    channel=notification.channel,
                    rule_id=notification.rule_id,
                    attempts=notification.attempts,
                    trace_parent=notification.trace_parent,
                    message=message,
                )
            )
        return claims

    async def _deliver(self, claim: Claim) -> None:
        attributes = {CHANNEL: claim.channel, "bgw.notification.id": claim.id}
        if claim.rule_id is not None:
            attributes[RULE_ID] = claim.rule_id
        async with self._slots:
            receipt: Receipt | None = None
            error: DeliveryError | None = None
            try:
                with traced("notification.send", attributes, parent=claim.trace_parent) as span:
                    span.set_attribute("bgw.notification.attempt", claim.attempts)
                    channel = self.channels.get(ChannelName(claim.channel))
                    if channel is None:
                        NOTIFICATIONS_SENT.add(1, {"channel": claim.channel, "status": "error"})
                        raise ChannelNotConfigured(ChannelName(claim.channel))
                    receipt = await send_once(
                        channel, claim.message, claim.key, self.policy.timeout_seconds
                    )
            except DeliveryError as exc:
                error = exc
            await self._record(claim, receipt, error)

    async def _record(
        self, claim: Claim, receipt: Receipt | None, error: DeliveryError | None
    ) -> None:
        now = datetime.now(UTC)
        if receipt is not None:
            values: dict[str, object] = {
                "status": NotificationStatus.DELIVERED.value,
                "delivered_at": now,
                "provider_ref": receipt.provider_ref,
                "last_error": None,
            }
            outcome = "delivered"
        else:
            assert error is not None
            last = error.permanent or claim.attempts >= self.policy.max_attempts
            values = {"last_error": error.reason[:ERROR_LIMIT]}
            if last:
                values["status"] = NotificationStatus.FAILED.value
                outcome = "failed"
            else:
                delay = self.policy.backoff(claim.attempts, error.retry_after)
                values["status"] = NotificationStatus.PENDING.value
                values["next_attempt_at"] = now + timedelta(seconds=delay)
                outcome = "retry"
        async with self.sessions() as session:
            # Only the holder of this claim writes: a dispatcher that lost its lease does not.
            result = await session.execute(
                update(Notification)
                .where(
                    Notification.id == claim.id,
                    Notification.status == NotificationStatus.SENT.value,
                    Notification.attempts == claim.attempts,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        log.info(
            "notification " + outcome,
            notification_id=claim.id,
            channel=claim.channel,
            attempt=claim.attempts,
            error=error.reason if error else None,
            recorded=result.rowcount == 1,  # type: ignore[attr-defined]
        )
