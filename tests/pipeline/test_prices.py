from __future__ import annotations

from decimal import Decimal

import pytest

from service.pipeline.prices import discount_pct, parse_percent, parse_price


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 990 ₽", "1990.00"),
        ("1\u00a0990 ₽", "1990.00"),  # no-break space
        ("1\u202f990₽", "1990.00"),  # narrow no-break space, no space before ₽
        ("1\u2009990 ₽", "1990.00"),  # thin space
        ("1990.00 руб.", "1990.00"),
        ("1 990,50 р.", "1990.50"),
        ("12 490 ₽", "12490.00"),
        ("Цена: 990₽", "990.00"),
        ("от 2 490 ₽", "2490.00"),
        ("1 234 567 ₽", "1234567.00"),
    ],
)
def test_russian_prices(text: str, expected: str) -> None:
    assert parse_price(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text", [None, "", "Нет в наличии", "0 ₽", "арт. 123456789", "99 999 999 ₽", "—"]
)
def test_absurd_or_missing_prices_are_none(text: str | None) -> None:
    assert parse_price(text) is None


def test_price_regex_narrows_the_text() -> None:
    text = "Старая цена 2 990 ₽ Новая цена 2 490 ₽"
    assert parse_price(text) == Decimal("2990.00")
    assert parse_price(text, r"Новая цена ([\d\s]+)") == Decimal("2490.00")
    assert parse_price(text, r"Оптовая цена (\d+)") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("-20%", "20"), ("−15 %", "15"), ("Скидка 7,5%", "7.5"), ("100%", None), ("20", None)],
)
def test_discount_badges(text: str, expected: str | None) -> None:
    assert parse_percent(text) == (Decimal(expected) if expected else None)


def test_discount_from_old_price() -> None:
    assert discount_pct(Decimal("1990"), Decimal("2490")) == Decimal("20")
    assert discount_pct(Decimal("2490"), Decimal("1990")) is None  # «old» price lower: no sale
    assert discount_pct(Decimal("1990"), None) is None
