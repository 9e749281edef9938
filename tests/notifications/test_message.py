"""The Russian message and its per-channel renderings."""

from __future__ import annotations

from decimal import Decimal

from service.domain import EventKind
from service.notifications.message import FOOTER, Message, format_money

NBSP = "\u00a0"


def _message(**changes) -> Message:
    values = {
        "game": "Каскадия",
        "kind": EventKind.DISCOUNT,
        "store": "Hobby Games",
        "url": "https://hobbygames.ru/cascadia?a=1&b=2",
        "price": Decimal("2990.00"),
        "discount_pct": Decimal("20.00"),
        "in_stock": True,
    }
    return Message(**(values | changes))


def test_title_body_and_footer_follow_the_design() -> None:
    message = _message()
    assert message.title == "Каскадия — скидка"
    assert message.body == (
        f"Магазин: Hobby Games | Цена: 2{NBSP}990{NBSP}₽ (скидка 20%) | в наличии | "
        "https://hobbygames.ru/cascadia?a=1&b=2"
    )
    assert message.text.splitlines() == [message.title, message.body, FOOTER]
    assert FOOTER == "Настройки уведомлений — в приложении"


def test_every_kind_has_a_russian_title() -> None:
    titles = {kind: _message(kind=kind).title for kind in EventKind}
    assert titles == {
        EventKind.ANNOUNCE: "Каскадия — анонс",
        EventKind.PREORDER: "Каскадия — предзаказ",
        EventKind.RELEASE: "Каскадия — релиз",
        EventKind.DISCOUNT: "Каскадия — скидка",
        EventKind.PRICE: "Каскадия — изменение цены",
    }


def test_missing_facts_are_left_out_not_invented() -> None:
    message = _message(price=None, discount_pct=None, in_stock=None, kind=EventKind.ANNOUNCE)
    assert message.body == "Магазин: Hobby Games | https://hobbygames.ru/cascadia?a=1&b=2"
    assert "нет в наличии" in _message(in_stock=False).body
    assert "скидка" not in _message(discount_pct=Decimal(0)).body


def test_money_is_grouped_with_no_break_spaces() -> None:
    assert format_money(Decimal("129990"), "RUB") == f"129{NBSP}990{NBSP}₽"
    assert format_money(Decimal("990.50"), "RUB") == f"990,50{NBSP}₽"
    assert format_money(Decimal("15"), "EUR") == f"15{NBSP}EUR"
    assert "12,5%" in _message(discount_pct=Decimal("12.50")).body


def test_telegram_html_escapes_what_users_and_shops_wrote() -> None:
    message = _message(game="<b>Dune</b> & Co", store="Магазин <script>")
    html = message.telegram_html()
    assert html.startswith("<b>&lt;b&gt;Dune&lt;/b&gt; &amp; Co — скидка</b>\n")
    assert "Магазин &lt;script&gt;" in html
    assert '<a href="https://hobbygames.ru/cascadia?a=1&amp;b=2">' in html
    assert html.endswith(f"<i>{FOOTER}</i>")
    assert "<script>" not in html


def test_slack_escapes_control_characters_of_mrkdwn() -> None:
    payload = _message(game="A<B>&C").slack_payload()
    assert payload["text"].startswith("*A&lt;B&gt;&amp;C — скидка*\n")
    assert "<https://hobbygames.ru/cascadia?a=1&amp;b=2|" in payload["text"]


def test_email_has_the_title_as_subject_and_a_stable_message_id() -> None:
    first = _message().email("bgw@example.org", ["me@example.org"], "bgw-notification-7")
    again = _message().email("bgw@example.org", ["me@example.org"], "bgw-notification-7")
    assert first["Subject"] == "Каскадия — скидка"
    # A retried send is recognisably the same mail.
    assert first["Message-ID"] == again["Message-ID"] == "<bgw-notification-7@bgw>"
    assert FOOTER in first.get_content()


def test_webhook_payload_carries_event_and_rule() -> None:
    payload = _message(event_id=5, rule_id=2, rule_name="Скидки", store_id="hobbygames")
    body = payload.webhook_payload("bgw-notification-9")
    assert body["notification"] == "bgw-notification-9"
    assert body["event"]["price"] == "2990.00"
    assert body["event"]["kind"] == "discount"
    assert body["rule"] == {"id": 2, "name": "Скидки"}
