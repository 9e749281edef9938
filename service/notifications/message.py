"""What a notification says, in Russian, and its rendering for each channel.

Gloomhaven — скидка
Магазин: Hobby Games | Цена: 4 990 ₽ (скидка 20%) | в наличии | https://…
Настройки уведомлений — в приложении
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

from service.domain import EventKind

KIND_TITLES = {
    EventKind.ANNOUNCE: "анонс",
    EventKind.PREORDER: "предзаказ",
    EventKind.RELEASE: "релиз",
    EventKind.DISCOUNT: "скидка",
    EventKind.PRICE: "изменение цены",
}
FOOTER = "Настройки уведомлений — в приложении"
CURRENCY_SIGNS = {"RUB": "₽"}
NBSP = "\u00a0"


@dataclass(frozen=True)
class Message:
    """One event as the user reads it, whatever the channel."""

    game: str
    kind: EventKind
    store: str
    url: str
    price: Decimal | None = None
    currency: str = "RUB"
    discount_pct: Decimal | None = None
    in_stock: bool | None = None
    # Context for machine readers (the webhook) and for tracing.
    event_id: int | None = None
    rule_id: int | None = None
    rule_name: str | None = None
    listing_title: str | None = None
    store_id: str | None = None

    @property
    def title(self) -> str:
        return f"{self.game} — {KIND_TITLES[self.kind]}"

    def body_parts(self) -> list[str]:
        parts = [f"Магазин: {self.store}"]
        if self.price is not None:
            price = f"Цена: {format_money(self.price, self.currency)}"
            if self.discount_pct:
                price += f" (скидка {format_number(self.discount_pct)}%)"
            parts.append(price)
        if self.in_stock is not None:
            parts.append("в наличии" if self.in_stock else "нет в наличии")
        parts.append(self.url)
        return parts

    @property
    def body(self) -> str:
        return " | ".join(self.body_parts())

    @property
    def text(self) -> str:
        """Plain text: title, body, footer, a line each."""
        return f"{self.title}\n{self.body}\n{FOOTER}"

    def telegram_html(self) -> str:
        """For the Bot API's HTML parse mode: everything user-supplied escaped."""
        parts = [html.escape(part, quote=False) for part in self.body_parts()[:-1]]
        link = f'<a href="{html.escape(self.url)}">{html.escape(self.url, quote=False)}</a>'
        return (
            f"<b>{html.escape(self.title, quote=False)}</b>\n"
            f"{' | '.join([*parts, link])}\n<i>{FOOTER}</i>"
        )

    def slack_payload(self) -> dict[str, Any]:
        """An incoming-webhook body; Slack's mrkdwn escapes only &, < and >."""
        parts = [slack_escape(part) for part in self.body_parts()[:-1]]
        link = f"<{slack_escape(self.url)}|{slack_escape(self.url)}>"
        text = f"*{slack_escape(self.title)}*\n{' | '.join([*parts, link])}\n_{FOOTER}_"
        return {"text": text, "unfurl_links": False}

    def email(self, sender: str, recipients: list[str], key: str) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = self.title
        message["From"] = sender
        message["To"] = ", ".join(recipients)
        # One Message-ID per notification: a retried send is recognisably the same mail.
        message["Message-ID"] = f"<{key}@bgw>"
        message.set_content(f"{self.title}\n\n{self.body}\n\n{FOOTER}\n")
        return message

    def webhook_payload(self, key: str) -> dict[str, Any]:
        return {
            "notification": key,
            "title": self.title,
            "text": self.text,
            "event": {
                "id": self.event_id,
                "kind": self.kind.value,
                "game": self.game,
                "title": self.listing_title,
                "store_id": self.store_id,
                "store": self.store,
                "price": str(self.price) if self.price is not None else None,
                "currency": self.currency,
                "discount_pct": str(self.discount_pct) if self.discount_pct is not None else None,
                "in_stock": self.in_stock,
                "url": self.url,
            },
            "rule": {"id": self.rule_id, "name": self.rule_name},
        }


def sample_message() -> Message:
    """What `POST /api/notifications/test/{channel}` sends."""
    return Message(
        game="Проверка BGW",
        kind=EventKind.DISCOUNT,
        store="Тестовый магазин",
        url="https://example.org/bgw-test",
        price=Decimal("4990"),
        discount_pct=Decimal("20"),
        in_stock=True,
        rule_name="Проверка канала",
        listing_title="Проверка BGW",
    )


def format_number(value: Decimal) -> str:
    """20 → "20", 12.5 → "12,5" (Russian decimal comma)."""
    text = f"{value.normalize():f}"
    return text.replace(".", ",")


def format_money(amount: Decimal, currency: str) -> str:
    """4990 → "4 990 ₽" (no-break spaces between thousands), kopecks only when there are any."""
    whole = amount == amount.to_integral_value()
    text = f"{amount:,.0f}" if whole else f"{amount:,.2f}"
    text = text.replace(",", NBSP).replace(".", ",")
    return f"{text}{NBSP}{CURRENCY_SIGNS.get(currency, currency)}"


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
