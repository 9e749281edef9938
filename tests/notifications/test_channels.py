"""Each channel against a local server speaking its provider's API, failing on demand."""

from __future__ import annotations

import httpx
import pytest

from service.notifications.channels import (
    DeliveryError,
    EmailChannel,
    SlackChannel,
    TelegramChannel,
    WebhookChannel,
)
from service.notifications.message import sample_message
from tests.notifications.providers import Failure, FakeHTTPProvider, FakeSMTP

KEY = "bgw-notification-1"


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=1.0) as client:
        yield client


def _telegram(http, provider: FakeHTTPProvider) -> TelegramChannel:
    return TelegramChannel(http, provider.url, "123:SECRET", "-1001")


async def test_telegram_sends_html_and_confirms_with_the_message_id(http, telegram) -> None:
    receipt = await _telegram(http, telegram).send(sample_message(), KEY)
    assert receipt.provider_ref == "1001"
    (accepted,) = telegram.accepted
    assert accepted.path == "/bot123:SECRET/sendMessage"
    assert accepted.body["chat_id"] == "-1001"
    assert accepted.body["parse_mode"] == "HTML"
    assert accepted.body["text"] == sample_message().telegram_html()


async def test_telegram_429_carries_the_providers_retry_after(http, telegram) -> None:
    telegram.fail_next(Failure(429, retry_after=7))
    with pytest.raises(DeliveryError) as caught:
        await _telegram(http, telegram).send(sample_message(), KEY)
    assert caught.value.retry_after == 7
    assert not caught.value.permanent
    assert "Too Many Requests" in caught.value.reason


@pytest.mark.parametrize(
    ("failure", "permanent"),
    [(Failure(500), False), (Failure(502), False), (Failure(400), True), (Failure(403), True)],
)
async def test_telegram_errors_say_whether_a_retry_can_help(
    http, telegram, failure, permanent
) -> None:
    telegram.fail_next(failure)
    with pytest.raises(DeliveryError) as caught:
        await _telegram(http, telegram).send(sample_message(), KEY)
    assert caught.value.permanent is permanent
    assert str(failure.status) in caught.value.reason
    assert telegram.accepted == []


async def test_a_stalled_provider_is_a_retryable_timeout(http, telegram) -> None:
    telegram.fail_next(Failure(stall=1.5))
    with pytest.raises(DeliveryError) as caught:
        await _telegram(http, telegram).send(sample_message(), KEY)
    assert caught.value.reason.startswith("timeout")
    assert not caught.value.permanent


async def test_nothing_listening_is_a_retryable_connection_failure(http) -> None:
    from tests.servers import free_port

    channel = TelegramChannel(http, f"http://127.0.0.1:{free_port()}", "1:x", "1")
    with pytest.raises(DeliveryError) as caught:
        await channel.send(sample_message(), KEY)
    assert caught.value.reason.startswith("connection failed")
    assert not caught.value.permanent


async def test_slack_confirms_on_ok_and_fails_on_the_rest(http, slack) -> None:
    channel = SlackChannel(http, f"{slack.url}/services/T0/B0/XYZ")
    await channel.send(sample_message(), KEY)
    assert slack.bodies() == [sample_message().slack_payload()]
    slack.fail_next(Failure(404), Failure(429, retry_after=3), Failure(503))
    outcomes = []
    for _ in range(3):
        with pytest.raises(DeliveryError) as caught:
            await channel.send(sample_message(), KEY)
        outcomes.append((caught.value.permanent, caught.value.retry_after))
    assert outcomes == [(True, None), (False, 3), (False, None)]


async def test_webhook_posts_event_and_rule_with_an_idempotency_key(http, webhook) -> None:
    channel = WebhookChannel(http, f"{webhook.url}/hook")
    await channel.send(sample_message(), KEY)
    (accepted,) = webhook.accepted
    assert accepted.headers["idempotency-key"] == KEY
    assert accepted.body == sample_message().webhook_payload(KEY)
    webhook.fail_next(Failure(500))
    with pytest.raises(DeliveryError, match="HTTP 500"):
        await channel.send(sample_message(), KEY)


def _email(server: FakeSMTP, **changes) -> EmailChannel:
    values = {
        "host": "127.0.0.1",
        "port": server.port,
        "security": server.security,
        "sender": "bgw@example.org",
        "recipients": ["me@example.org", "you@example.org"],
        "timeout": 5.0,
        "ca_file": server.cert,
    }
    return EmailChannel(**(values | changes))


async def test_email_plain_smtp_is_accepted(smtp) -> None:
    receipt = await _email(smtp).send(sample_message(), KEY)
    assert receipt.provider_ref == "2.0.0 OK queued as BGW1"
    (envelope,) = smtp.accepted
    assert envelope.rcpt_tos == ["me@example.org", "you@example.org"]
    assert b"Subject:" in envelope.content
    assert b"<bgw-notification-1@bgw>" in envelope.content


@pytest.mark.parametrize("security", ["starttls", "ssl"])
async def test_email_over_tls_with_auth(tmp_path, security) -> None:
    server = FakeSMTP(tmp_path, security=security, username="bgw", password="pw").start()
    try:
        await _email(server, username="bgw", password="pw").send(sample_message(), KEY)
        assert len(server.accepted) == 1
        with pytest.raises(DeliveryError) as caught:
            await _email(server, username="bgw", password="wrong").send(sample_message(), KEY)
        assert caught.value.permanent
        assert "authentication" in caught.value.reason
        assert len(server.accepted) == 1
    finally:
        server.stop()


async def test_starttls_refuses_an_untrusted_certificate(tmp_path) -> None:
    server = FakeSMTP(tmp_path, security="starttls").start()
    try:
        with pytest.raises(DeliveryError) as caught:
            await _email(server, ca_file=None).send(sample_message(), KEY)
        assert "CERTIFICATE_VERIFY_FAILED" in caught.value.reason or "certificate" in (
            caught.value.reason.lower()
        )
        assert server.accepted == []
    finally:
        server.stop()


async def test_email_4xx_is_retried_and_5xx_is_final(smtp) -> None:
    smtp.replies.extend(["451 4.3.0 try again later", "554 5.7.1 rejected"])
    with pytest.raises(DeliveryError) as later:
        await _email(smtp).send(sample_message(), KEY)
    with pytest.raises(DeliveryError) as never:
        await _email(smtp).send(sample_message(), KEY)
    assert (later.value.permanent, never.value.permanent) == (False, True)
    assert smtp.accepted == []
