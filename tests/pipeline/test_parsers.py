"""Parsers on saved pages shaped like the real sources."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from service.agents.parsers import PARSERS
from service.domain import AgentType, EventKind
from tests.agents_fixtures import HOBBYGAMES_SELECTORS

PAGES = Path(__file__).resolve().parents[1] / "pages"

HOBBYGAMES = {
    "selectors": HOBBYGAMES_SELECTORS,
    "pagination": {"next_selector": "a.pagination__next::attr(href)", "max_pages": 3},
}
LAVKAIGR = {
    "selectors": {
        "item": "li.product",
        "title": ".product__name a",
        "url": ".product__name a::attr(href)",
        "price": ".product__price ins",
        "old_price": ".product__price del",
        "badge": ".product__badge",
        "in_stock": ".product__buy",
    }
}
NASTOL = {
    "selectors": {
        "item": "data.products",
        "title": "name",
        "url": "url",
        "price": "price.current",
        "old_price": "price.old",
        "badge": "status",
        "in_stock": "available",
    },
    "pagination": {"next_selector": "links.next"},
}


def _parse(kind: AgentType, page: str, url: str, config: dict) -> tuple[list, str | None]:
    result = PARSERS[kind]((PAGES / page).read_text(encoding="utf-8"), url, config)
    return result.drafts, result.next_url


def test_hobbygames_catalog() -> None:
    drafts, next_url = _parse(
        AgentType.HTML, "hobbygames_catalog.html", "https://hobbygames.ru/catalog/new", HOBBYGAMES
    )
    assert [d.title for d in drafts] == ["Каскадия: Ландшафты", "Настольная игра Крылья", "Азул"]
    landmarks, wingspan, azul = drafts
    assert landmarks.url == "https://hobbygames.ru/catalog/cascadia-landmarks"
    assert (landmarks.kind, landmarks.price) == (EventKind.PREORDER, Decimal("2490.00"))
    assert (wingspan.price, wingspan.old_price) == (Decimal("3990.00"), Decimal("4990.00"))
    assert (wingspan.kind, wingspan.discount_pct, wingspan.in_stock) == (
        EventKind.DISCOUNT,
        Decimal("20"),
        True,
    )
    assert (azul.kind, azul.price, azul.in_stock) == (EventKind.RELEASE, Decimal("2990.00"), False)
    assert all(d.is_valid for d in drafts)
    assert next_url == "https://hobbygames.ru/catalog/new?page=2"


def test_lavkaigr_shop() -> None:
    drafts, next_url = _parse(
        AgentType.HTML, "lavkaigr_shop.html", "https://www.lavkaigr.ru/shop/", LAVKAIGR
    )
    deluxe, thrones = drafts
    assert deluxe.url == "https://www.lavkaigr.ru/shop/games/kaskadiya/"
    assert (deluxe.kind, deluxe.price, deluxe.in_stock) == (
        EventKind.RELEASE,
        Decimal("5490.00"),
        True,
    )
    assert (thrones.kind, thrones.discount_pct) == (EventKind.DISCOUNT, Decimal("15"))
    assert next_url is None


def test_json_api() -> None:
    drafts, next_url = _parse(
        AgentType.JSON_API, "nastol_api.json", "https://nastol.io/api/new", NASTOL
    )
    oceania, cascadia = drafts
    assert (oceania.kind, oceania.price, oceania.in_stock) == (
        EventKind.ANNOUNCE,
        Decimal("2190.00"),
        False,
    )
    assert oceania.url == "https://nastol.io/p/wingspan-oceania"
    assert (cascadia.kind, cascadia.discount_pct) == (EventKind.DISCOUNT, Decimal("14"))
    assert next_url is None


def test_telegram_channel() -> None:
    drafts, older = _parse(
        AgentType.TELEGRAM_PUBLIC, "crowdgames_channel.html", "https://t.me/s/crowdgames", {}
    )
    preorder, announce = drafts
    assert preorder.title == "Предзаказ на «Каскадию» открыт!"
    assert (preorder.kind, preorder.price) == (EventKind.PREORDER, Decimal("2690.00"))
    assert preorder.url == "https://t.me/crowdgames/1201"
    assert announce.kind is EventKind.ANNOUNCE
    assert announce.price is None  # «2027» is a year, not a price
    assert not announce.is_valid
    assert older == "https://t.me/s/crowdgames?before=1201"


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (AgentType.HTML, ""),
        (AgentType.HTML, "<html><body><div class='product-card'>"),  # truncated
        (AgentType.HTML, "\x00\x01 not html at all"),
        (AgentType.JSON_API, "{not json"),
        (AgentType.JSON_API, '{"data": {"products": "oops"}}'),
        (AgentType.TELEGRAM_PUBLIC, "<html></html>"),
    ],
)
def test_bad_pages_yield_no_drafts(kind: AgentType, body: str) -> None:
    config = {AgentType.HTML: HOBBYGAMES, AgentType.JSON_API: NASTOL}.get(kind, {})
    result = PARSERS[kind](body, "https://example.ru/", config)
    assert result.drafts == []


def test_selectors_matching_nothing_yield_no_drafts() -> None:
    config = {"selectors": {"item": ".no-such-card", "title": ".x"}}
    drafts, _ = _parse(AgentType.HTML, "hobbygames_catalog.html", "https://hobbygames.ru/", config)
    assert drafts == []
