"""The dispatcher on each backend: delivery to confirmation, retries with backoff and the
provider's Retry-After, final failure, quiet hours, claims that cannot be won twice, a dead
dispatcher's claim taken over, counts in the catalog, and the send span in the event's trace."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from service.app import create_app
from service.db.engine import create_engine, create_session_factory
from service.db.models import ListingEvent, Notification
from service.notifications.dispatcher import Dispatcher
from service.rules.firing import RulesSink
from service.rules.quiet import QuietHours
from telemetry.tracing import traced
from tests.conftest import Backend
from tests.factories import create, event_row, game_body, rule_body, store_body
from tests.notifications.providers import Failure, FakeHTTPProvider, FakeSMTP
from tests.telemetry.helpers import scrape

ALL_CHANNELS = ["telegram", "slack", "email", "webhook"]


@dataclass
class Scene:
    app: FastAPI
    client: httpx.AsyncClient
    dispatcher: Dispatcher
    rule_id: int
    game_id: int
    exporter: InMemorySpanExporter

    async def fire(self, count: int = 1, quiet: str | None = None) -> list[ListingEvent]:
        """``count`` new events that the rule matches, through the real rules sink."""
        async with self.app.state.sessions() as session:
            events = [event_row("hobbygames", game_id=self.game_id) for _ in range(count)]
            session.add_all(events)
            await session.flush()
            with traced("event.create"):
                await RulesSink(QuietHours(quiet, self.app.state.settings.tz)).on_events(
                    session, events
                )
            await session.commit()
        return events

    async def notifications(self) -> list[Notification]:
        async with self.app.state.sessions() as session:
            return list(
                (await session.scalars(select(Notification).order_by(Notification.id))).all()
            )

    async def drain(self, rounds: int = 50) -> None:
        """Dispatch until nothing is left to send, jumping the clock over backoffs."""
        clock = datetime.now(UTC)
        for _ in range(rounds):
            left = [n for n in await self.notifications() if n.status in ("pending", "sent")]
            if not left:
                return
            clock = max([clock, *(n.next_attempt_at for n in left)])
            await self.dispatcher.dispatch_due(now=clock)
        raise AssertionError("notifications still pending after the last round")


@pytest.fixture
async def scene(
    backend: Backend,
    clean_db: None,
    telegram: FakeHTTPProvider,
    slack: FakeHTTPProvider,
    webhook: FakeHTTPProvider,
    smtp: FakeSMTP,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Scene]:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_on")
    settings = backend.settings(
        embedded_worker=False,
        telegram_bot_token="42:TOKEN",
        telegram_chat_id="-100",
        telegram_api_url=telegram.url,
        slack_webhook_url=f"{slack.url}/services/T/B/S",
        webhook_url=f"{webhook.url}/bgw",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security="none",
        smtp_to="me@example.org",
        notify_max_attempts=4,
        notify_backoff_seconds=5,
        notify_timeout_seconds=1,
        notify_lease_seconds=30,
    )
    app = create_app(settings)
    exporter = InMemorySpanExporter()
    app.state.telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
            await create(client, "/api/stores", store_body())
            game = await create(client, "/api/games", game_body(title="Каскадия", bgg_id=None))
            rule = await create(client, "/api/rules", rule_body(channels=ALL_CHANNELS))
            yield Scene(
                app,
                client,
                app.state.notifications.dispatcher,
                rule["id"],
                game["id"],
                exporter,
            )


async def test_each_channel_delivers_to_confirmation(scene, telegram, slack, webhook, smtp):
    (event,) = await scene.fire()
    assert [n.status for n in await scene.notifications()] == ["pending"] * 4
    assert await scene.dispatcher.dispatch_due() == 4

    rows = {n.channel: n for n in await scene.notifications()}
    assert {n.status for n in rows.values()} == {"delivered"}
    assert all(n.attempts == 1 and n.delivered_at and n.sent_at for n in rows.values())
    assert rows["telegram"].provider_ref == "1001"
    assert rows["email"].provider_ref.startswith("2.0.0 OK")
    assert len(telegram.accepted) == len(slack.accepted) == len(webhook.accepted) == 1
    assert len(smtp.accepted) == 1
    assert "Каскадия — скидка" in telegram.accepted[0].body["text"]
    assert webhook.accepted[0].body["event"]["id"] == event.id
    assert webhook.accepted[0].body["rule"]["id"] == scene.rule_id

    families = await scrape(scene.client)
    sent, delivered = (
        families["notifications_sent_total"],
        families["notifications_delivered_total"],
    )
    for channel in ALL_CHANNELS:
        assert sent.value(channel=channel, status="success") == 1
        assert sent.value(channel=channel, status="error") == 0
        assert delivered.value(channel=channel) == 1
    # Nothing is due any more: a second pass sends nothing again.
    assert await scene.dispatcher.dispatch_due() == 0


async def test_failures_are_retried_with_backoff_and_retry_after(scene, telegram):
    await scene.fire()
    telegram.fail_next(Failure(503), Failure(429, retry_after=120), Failure(stall=1.5))
    before = datetime.now(UTC)
    await scene.dispatcher.dispatch_due(now=before)
    (first,) = [n for n in await scene.notifications() if n.channel == "telegram"]
    assert (first.status, first.attempts) == ("pending", 1)
    assert first.last_error.startswith("HTTP 503")
    # The first backoff is the base (5 s) with ±10 % jitter.
    assert timedelta(seconds=4.4) <= first.next_attempt_at - before <= timedelta(seconds=5.6)
    assert await scene.dispatcher.dispatch_due(now=before + timedelta(seconds=4)) == 0

    await scene.dispatcher.dispatch_due(now=first.next_attempt_at)
    (second,) = [n for n in await scene.notifications() if n.channel == "telegram"]
    assert second.attempts == 2
    assert "Too Many Requests" in second.last_error
    # Telegram asked for 120 s, longer than the 10 s backoff: its wish wins.
    assert second.next_attempt_at - before >= timedelta(seconds=119)

    await scene.drain()
    (done,) = [n for n in await scene.notifications() if n.channel == "telegram"]
    assert (done.status, done.attempts, done.last_error) == ("delivered", 4, None)
    assert len(telegram.accepted) == 1
    families = await scrape(scene.client)
    sent = families["notifications_sent_total"]
    assert sent.value(channel="telegram", status="error") == 3
    assert sent.value(channel="telegram", status="success") == 1


async def test_the_last_attempt_fails_and_keeps_the_error(scene, slack, webhook):
    await scene.fire()
    slack.fail_next(*[Failure(500)] * 10)
    webhook.fail_next(Failure(404))  # permanent: no retry
    await scene.drain()
    rows = {n.channel: n for n in await scene.notifications()}
    assert (rows["slack"].status, rows["slack"].attempts) == ("failed", 4)
    assert rows["slack"].last_error.startswith("HTTP 500")
    assert (rows["webhook"].status, rows["webhook"].attempts) == ("failed", 1)
    assert rows["webhook"].last_error.startswith("HTTP 404")
    assert rows["telegram"].status == rows["email"].status == "delivered"
    assert slack.attempts == 4


async def test_an_unconfigured_channel_fails_saying_what_to_set(scene):
    del scene.dispatcher.channels["slack"]
    await scene.fire()
    await scene.dispatcher.dispatch_due()
    (row,) = [n for n in await scene.notifications() if n.channel == "slack"]
    assert row.status == "failed"
    assert row.last_error == "channel slack is not configured: set BGW_SLACK_WEBHOOK_URL (or _FILE)"


async def test_quiet_hours_hold_notifications_until_they_end(scene, telegram):
    moscow = datetime.now(UTC).astimezone(scene.app.state.settings.tz)
    start = (moscow - timedelta(hours=1)).strftime("%H:%M")
    end = (moscow + timedelta(hours=1)).strftime("%H:%M")
    await scene.fire(quiet=f"{start}-{end}")
    rows = await scene.notifications()
    assert {n.status for n in rows} == {"deferred"}
    ends = rows[0].next_attempt_at
    assert await scene.dispatcher.dispatch_due() == 0
    assert await scene.dispatcher.dispatch_due(now=ends - timedelta(seconds=1)) == 0
    assert telegram.accepted == []
    assert await scene.dispatcher.dispatch_due(now=ends) == 4
    assert {n.status for n in await scene.notifications()} == {"delivered"}


async def test_a_dead_dispatchers_claim_is_taken_over_once(scene, telegram):
    await scene.fire()
    now = datetime.now(UTC)
    # A dispatcher claims everything and dies before sending anything.
    claimed = await scene.dispatcher.claim_due(now)
    assert len(claimed) == 4
    assert {n.status for n in await scene.notifications()} == {"sent"}
    assert await scene.dispatcher.dispatch_due(now=now + timedelta(seconds=29)) == 0
    assert await scene.dispatcher.dispatch_due(now=now + timedelta(seconds=31)) == 4
    rows = await scene.notifications()
    assert {(n.status, n.attempts) for n in rows} == {("delivered", 2)}
    assert len(telegram.accepted) == 1


async def test_concurrent_dispatchers_send_each_notification_once(
    scene, backend: Backend, telegram, slack, webhook, smtp
):
    await scene.fire(count=15)  # 60 notifications
    engines = [create_engine(scene.app.state.settings) for _ in range(3)]
    try:
        dispatchers = [
            Dispatcher(
                create_session_factory(engine),
                scene.dispatcher.channels,
                scene.dispatcher.policy,
                batch_size=7,
            )
            for engine in engines
        ]

        async def work(dispatcher: Dispatcher) -> int:
            handled = 0
            while count := await dispatcher.dispatch_due():
                handled += count
            return handled

        handled = await asyncio.gather(*(work(d) for d in dispatchers))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(handled) == 60
    rows = await scene.notifications()
    assert {(n.status, n.attempts) for n in rows} == {("delivered", 1)}
    for provider in (telegram, slack, webhook):
        assert len(provider.accepted) == 15
    keys = [a.headers["idempotency-key"] for a in webhook.accepted]
    assert len(set(keys)) == 15
    assert len(smtp.accepted) == 15


async def test_injected_provider_failures_lose_nothing(scene, telegram, slack, webhook, smtp):
    """Every provider fails a third of its requests in every way it can; all 120 notifications
    still arrive exactly once."""
    # Patient enough for a third of the attempts failing: "lost" would mean failed or missing.
    scene.dispatcher.policy = dataclasses.replace(scene.dispatcher.policy, max_attempts=12)
    rng = random.Random(7)
    for provider in (telegram, slack, webhook):
        # None: accept. Each provider sees 5xx, throttling with Retry-After and timeouts.
        provider.fail_next(
            *[
                rng.choice([Failure(500), Failure(502), Failure(429, retry_after=2)])
                if rng.random() < 0.3
                else Failure(stall=1.5)
                if rng.random() < 0.05
                else None
                for _ in range(60)
            ]
        )
    smtp.replies.extend(
        rng.choice(["451 4.3.0 busy", "452 4.3.1 insufficient storage"]) for _ in range(10)
    )
    await scene.fire(count=30)
    await scene.drain(rounds=200)
    rows = await scene.notifications()
    assert len(rows) == 120
    assert {n.status for n in rows} == {"delivered"}
    for provider in (telegram, slack, webhook):
        assert len(provider.accepted) == 30
    assert len(smtp.accepted) == 30
    keys = [a.headers["idempotency-key"] for a in webhook.accepted]
    assert sorted(keys) == sorted(
        {f"bgw-notification-{n.id}" for n in rows if n.channel == "webhook"}
    )
    families = await scrape(scene.client)
    sent, delivered = (
        families["notifications_sent_total"],
        families["notifications_delivered_total"],
    )
    attempts = sum(n.attempts for n in rows)
    total_sent = sum(
        sent.value(channel=c, status=s) for c in ALL_CHANNELS for s in ("success", "error")
    )
    assert total_sent == attempts
    assert sum(delivered.value(channel=c) for c in ALL_CHANNELS) == 120
    print(
        f"\n120 notifications, {attempts} attempts, "
        f"{sum(sent.value(channel=c, status='error') for c in ALL_CHANNELS):.0f} failed attempts, "
        f"120 delivered, 0 lost"
    )


async def test_the_send_span_continues_the_events_trace(scene):
    await scene.fire()
    await scene.dispatcher.dispatch_due()
    spans = scene.exporter.get_finished_spans()
    (created,) = [s for s in spans if s.name == "event.create"]
    (evaluated,) = [s for s in spans if s.name == "rules.evaluate"]
    sends = [s for s in spans if s.name == "notification.send"]
    assert len(sends) == 4
    for send in sends:
        assert send.context.trace_id == created.context.trace_id
        assert send.parent.span_id == evaluated.context.span_id
        assert send.attributes["bgw.rule.id"] == scene.rule_id
    assert {s.attributes["bgw.channel"] for s in sends} == set(ALL_CHANNELS)
    # The bot token in the Bot API URL stays out of the client span.
    urls = [
        s.attributes.get("url.full") or s.attributes.get("http.url")
        for s in spans
        if s.kind.name == "CLIENT" and s.context.trace_id == created.context.trace_id
    ]
    assert any(u and "/<redacted>/sendMessage" in u for u in urls), urls
    assert not any(u and "42:TOKEN" in u for u in urls)
