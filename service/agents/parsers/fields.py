"""Turning the raw fields a parser found into a draft: prices, discount, kind, stock."""

from __future__ import annotations

import re
from decimal import Decimal

from service.agents.drafts import Draft
from service.pipeline.kinds import detect_kind
from service.pipeline.prices import discount_pct, parse_percent, parse_price
from service.text import fold

_OUT_OF_STOCK = re.compile(r"(?<!\w)(нет в наличии|закончил|распродан|out of stock|sold out)")
_IN_STOCK = re.compile(r"(?<!\w)(в наличии|в корзину|купить|in stock|add to cart)")


def stock_from(text: str | None) -> bool | None:
    if not text:
        return None
    folded = fold(text)
    if _OUT_OF_STOCK.search(folded):
        return False
    if _IN_STOCK.search(folded):
        return True
    return None


def build_draft(
    *,
    title: str | None,
    url: str | None,
    price_text: str | None,
    old_price_text: str | None = None,
    badge: str | None = None,
    stock_text: str | None = None,
    text: str | None = None,
    price_regex: str | None = None,
) -> Draft | None:
    """A draft from raw strings; None when there is no title or URL to speak of."""
    title = " ".join((title or "").split())
    if not title or not url:
        return None
    price = parse_price(price_text, price_regex)
    old_price = parse_price(old_price_text, price_regex)
    discount = discount_pct(price, old_price) or parse_percent(badge)
    kind = detect_kind(badge, text, title, has_discount=discount is not None)
    return Draft(
        title=title[:500],
        url=url,
        price=price,
        old_price=old_price,
        discount_pct=discount if discount is None else Decimal(discount),
        kind=kind,
        in_stock=stock_from(stock_text),
        badge=badge,
        text=text[:2000] if text else None,
    )
