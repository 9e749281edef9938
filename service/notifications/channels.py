"""The four ways a notification travels, each confirming delivery its provider's way:

- telegram: Bot API ``sendMessage`` (HTML); delivered when it answers ``ok`` with a message_id;
- slack: an incoming webhook; delivered on 200 with the body ``ok``;
- email: SMTP (STARTTLS, SSL or plain; AUTH when a user is set); delivered when the server
  accepts the message for every recipient;
- webhook: a JSON POST of the event and the rule; delivered on any 2xx.

A failed send raises :class:`DeliveryError`, which says whether trying again can help and how
long the provider asked to wait (HTTP 429 Retry-After, Telegram's ``retry_after``).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiosmtplib
import httpx

from service.config import Settings
from service.domain import Channel as ChannelName
from service.notifications.message import Message


class DeliveryError(Exception):
    def __init__(
        self, reason: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent


class ChannelNotConfigured(DeliveryError):
    def __init__(self, channel: ChannelName) -> None:
        super().__init__(
            f"channel {channel.value} is not configured: set {SETTINGS_HINTS[channel]}",
            permanent=True,
        )


@dataclass(frozen=True)
class Receipt:
    """The provider's confirmation."""

    provider_ref: str | None = None


class Channel(Protocol):
    name: ChannelName

    async def send(self, message: Message, key: str) -> Receipt:
        """Deliver ``message``; ``key`` names this notification (stable across retries)."""
        ...


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date; the backoff decides


def _http_failure(response: httpx.Response, detail: str = "") -> DeliveryError:
    """Throttling, timeouts and server errors are worth retrying; other client errors are not."""
    reason = f"HTTP {response.status_code}" + (f": {detail}" if detail else "")
    status = response.status_code
    if status == 429:
        return DeliveryError(reason, retry_after=_retry_after(response))
    return DeliveryError(reason, permanent=400 <= status < 500 and status != 408)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _post(http: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return await http.post(url, **kwargs)
    except httpx.TimeoutException as exc:
        raise DeliveryError(f"timeout: {type(exc).__name__}") from exc
    except httpx.TransportError as exc:
        raise DeliveryError(f"connection failed: {type(exc).__name__}: {exc}") from exc


@dataclass
class TelegramChannel:
    http: httpx.AsyncClient
    api_url: str
    token: str
    chat_id: str
    name: ChannelName = ChannelName.TELEGRAM

    @property
    def endpoint(self) -> str:
        return f"{self.api_url.rstrip('/')}/bot{self.token}/sendMessage"

    async def send(self, message: Message, key: str) -> Receipt:
        response = await _post(
            self.http,
            self.endpoint,
            json={
                "chat_id": self.chat_id,
                "text": message.telegram_html(),
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True},
            },
        )
        try:
            reply = response.json()
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            if response.is_success:
                raise DeliveryError(f"HTTP {response.status_code}: the reply is not JSON")
            raise _http_failure(response)
        if reply.get("ok") is True:
            message_id = (reply.get("result") or {}).get("message_id")
            if message_id is None:
                raise DeliveryError("Telegram answered ok without a message_id")
            return Receipt(str(message_id))
        detail = _short(str(reply.get("description") or "not ok"))
        parameters = reply.get("parameters") or {}
        if response.status_code == 429 or "retry_after" in parameters:
            retry_after = parameters.get("retry_after")
            raise DeliveryError(
                f"HTTP {response.status_code}: {detail}",
                retry_after=float(retry_after) if retry_after is not None else None,
            )
        raise _http_failure(response, detail)


@dataclass
class SlackChannel:
    http: httpx.AsyncClient
    webhook_url: str
    name: ChannelName = ChannelName.SLACK

    async def send(self, message: Message, key: str) -> Receipt:
        response = await _post(self.http, self.webhook_url, json=message.slack_payload())
        if response.status_code == 200 and response.text.strip() == "ok":
            return Receipt()
        if response.is_success:
            raise DeliveryError(
                f"HTTP {response.status_code}: unexpected reply {_short(response.text)!r}"
            )
        raise _http_failure(response, _short(response.text))


@dataclass
class WebhookChannel:
    http: httpx.AsyncClient
    url: str
    name: ChannelName = ChannelName.WEBHOOK

    async def send(self, message: Message, key: str) -> Receipt:
        response = await _post(
            self.http,
            self.url,
            json=message.webhook_payload(key),
            # The same key on every retry lets a receiver drop a repeat.
            headers={"idempotency-key": key},
        )
        if response.is_success:
            return Receipt()
        raise _http_failure(response, _short(response.text))


@dataclass
class EmailChannel:
    host: str
    port: int
    security: str
    sender: str
    recipients: list[str]
    username: str | None = None
    password: str | None = None
    timeout: float = 15.0
    ca_file: Path | None = None
    name: ChannelName = ChannelName.EMAIL

    async def send(self, message: Message, key: str) -> Receipt:
        try:
            refused, reply = await aiosmtplib.send(
                message.email(self.sender, self.recipients, key),
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.security == "ssl",
                start_tls=self.security == "starttls",
                timeout=self.timeout,
                tls_context=ssl.create_default_context(cafile=self.ca_file),
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"every recipient refused: {exc}", permanent=True) from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP authentication failed: {exc.code}", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is the server's final word; 4xx asks to come back later.
            raise DeliveryError(
                f"SMTP {exc.code}: {_short(exc.message)}", permanent=exc.code >= 500
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP connection failed: {type(exc).__name__}: {exc}") from exc
        if refused:
            raise DeliveryError(f"recipients refused: {', '.join(sorted(refused))}", permanent=True)
        return Receipt(_short(reply, 200))


# What a user sets for each channel, for the error that says it is missing.
SETTINGS_HINTS: Mapping[ChannelName, str] = {
    ChannelName.TELEGRAM: "BGW_TELEGRAM_BOT_TOKEN (or _FILE) and BGW_TELEGRAM_CHAT_ID",
    ChannelName.SLACK: "BGW_SLACK_WEBHOOK_URL (or _FILE)",
    ChannelName.EMAIL: "BGW_SMTP_HOST and BGW_SMTP_TO",
    ChannelName.WEBHOOK: "BGW_WEBHOOK_URL",
}

SMTP_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


def build_channels(settings: Settings, http: httpx.AsyncClient) -> dict[ChannelName, Channel]:
    """The channels the settings configure; a channel left out is not configured."""
    channels: dict[ChannelName, Channel] = {}
    token = settings.secret("telegram_bot_token")
    if token and settings.telegram_chat_id:
        channels[ChannelName.TELEGRAM] = TelegramChannel(
            http, settings.telegram_api_url, token, settings.telegram_chat_id
        )
    slack_url = settings.secret("slack_webhook_url")
    if slack_url:
        channels[ChannelName.SLACK] = SlackChannel(http, slack_url)
    recipients = [r.strip() for r in (settings.smtp_to or "").split(",") if r.strip()]
    if settings.smtp_host and recipients:
        channels[ChannelName.EMAIL] = EmailChannel(
            host=settings.smtp_host,
            port=settings.smtp_port or SMTP_DEFAULT_PORTS[settings.smtp_security],
            security=settings.smtp_security,
            sender=settings.smtp_from,
            recipients=recipients,
            username=settings.smtp_username,
            password=settings.secret("smtp_password"),
            timeout=settings.notify_timeout_seconds,
            ca_file=settings.smtp_ca_file,
        )
    webhook_url = settings.secret("webhook_url")
    if webhook_url:
        channels[ChannelName.WEBHOOK] = WebhookChannel(http, webhook_url)
    return channels


def secret_urls(channels: Mapping[ChannelName, Channel]) -> list[str]:
    """URL prefixes that carry credentials, to keep out of spans and logs."""
    urls: list[str] = []
    for channel in channels.values():
        if isinstance(channel, TelegramChannel):
            urls.append(f"{channel.api_url.rstrip('/')}/bot{channel.token}")
        elif isinstance(channel, SlackChannel):
            urls.append(channel.webhook_url)
        elif isinstance(channel, WebhookChannel):
            urls.append(channel.url)
    return urls
