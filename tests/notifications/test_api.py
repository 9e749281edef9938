"""`POST /api/notifications/test/{channel}`: a real send of a sample message."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from service.app import create_app
from tests.conftest import Backend
from tests.notifications.providers import Failure, FakeHTTPProvider, FakeSMTP
from tests.telemetry.helpers import scrape


@pytest.fixture
async def api(
    backend: Backend, clean_db: None, telegram: FakeHTTPProvider, smtp: FakeSMTP
) -> AsyncIterator[httpx.AsyncClient]:
    settings = backend.settings(
        embedded_worker=False,
        telegram_bot_token="42:TOKEN",
        telegram_chat_id="-100",
        telegram_api_url=telegram.url,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_security="none",
        smtp_to="me@example.org, you@example.org",
        notify_timeout_seconds=1,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bgw.test") as client:
            yield client


@pytest.mark.backends("sqlite")
async def test_a_configured_channel_sends_the_sample(api, telegram, smtp) -> None:
    response = await api.post("/api/notifications/test/telegram")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["delivered"] is True
    assert body["provider_ref"] == "1001"
    assert body["text"].startswith("Проверка BGW — скидка\n")
    assert len(telegram.accepted) == 1

    response = await api.post("/api/notifications/test/email")
    assert response.status_code == 200, response.text
    assert smtp.accepted[0].rcpt_tos == ["me@example.org", "you@example.org"]

    families = await scrape(api)
    assert families["notifications_sent_total"].value(channel="telegram", status="success") == 1
    assert families["notifications_delivered_total"].value(channel="email") == 1


@pytest.mark.backends("sqlite")
async def test_an_unconfigured_channel_is_409_naming_the_settings(api) -> None:
    response = await api.post("/api/notifications/test/slack")
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "channel slack is not configured: set BGW_SLACK_WEBHOOK_URL (or _FILE)"
    )


@pytest.mark.backends("sqlite")
async def test_a_provider_failure_is_502_with_its_reason(api, telegram) -> None:
    telegram.fail_next(Failure(400))
    response = await api.post("/api/notifications/test/telegram")
    assert response.status_code == 502
    assert response.json()["detail"] == (
        "telegram did not deliver: HTTP 400: Bad Request: chat not found"
    )
    telegram.fail_next(Failure(stall=2))
    response = await api.post("/api/notifications/test/telegram")
    assert response.status_code == 502
    assert "telegram did not deliver: " in response.json()["detail"]
    families = await scrape(api)
    assert families["notifications_sent_total"].value(channel="telegram", status="error") == 2


@pytest.mark.backends("sqlite")
async def test_an_unknown_channel_is_422(api) -> None:
    response = await api.post("/api/notifications/test/pigeon")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "channel"]
