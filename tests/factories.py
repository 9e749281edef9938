"""Request bodies and stored rows for tests: valid by default, changed by keyword."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from service.db.models import ListingEvent, Notification, PriceHistory


def store_body(**changes: Any) -> dict[str, Any]:
    return {
        "id": "hobbygames",
        "name": "Hobby Games",
        "site_url": "https://hobbygames.ru",
    } | changes


def game_body(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Каскадия",
        "synonyms": ["Cascadia"],
        "publisher": "Lavka Games",
        "tags": ["семейная"],
        "bgg_id": 314040,
    } | changes


def agent_body(**changes: Any) -> dict[str, Any]:
    return {
        "id": "hobbygames-new",
        "name": "Hobby Games: новинки",
        "type": "html",
        "store_id": "hobbygames",
        "schedule": {"interval_seconds": 3600},
        "rate_limit": {"rps": 0.5, "burst": 2, "daily_pages_cap": 100},
        "config": {
            "start_urls": ["https://hobbygames.ru/catalog/new"],
            "mode": "search",
            "selectors": {"item": ".product-card", "title": ".name", "price": ".price"},
            "pagination": {"next_selector": "a.next::attr(href)", "max_pages": 3},
            "secret_headers": {"Authorization": "Bearer s3cr3t"},
        },
    } | changes


def rule_body(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Скидки на Каскадию",
        "logic": "AND",
        "conditions": [
            {"field": "game", "op": "contains", "value": "Каскадия"},
            {"field": "discount_pct", "op": ">=", "value": 15},
        ],
        "channels": ["telegram", "email"],
        "cooldown_hours": 24,
    } | changes


async def create(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    return response.json()


_counter = iter(range(1, 10**9))


def event_row(store_id: str, **changes: Any) -> ListingEvent:
    n = next(_counter)
    values: dict[str, Any] = {
        "store_id": store_id,
        "kind": "discount",
        "title": f"Каскадия #{n}",
        "price": Decimal("2990.00"),
        "currency": "RUB",
        "discount_pct": Decimal("20"),
        "in_stock": True,
        "url": f"https://hobbygames.ru/cascadia-{n}",
        "signature_hash": f"sig-{n:060d}",
        "first_seen_at": datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        "last_seen_at": datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
    }
    return ListingEvent(**(values | changes))


def price_row(store_id: str, **changes: Any) -> PriceHistory:
    values: dict[str, Any] = {
        "store_id": store_id,
        "observed_at": datetime(2026, 11, 1, tzinfo=UTC),
        "price": Decimal("2990.00"),
        "currency": "RUB",
    }
    return PriceHistory(**(values | changes))


def notification_row(event_id: int, **changes: Any) -> Notification:
    values: dict[str, Any] = {
        "event_id": event_id,
        "channel": "telegram",
        "status": "pending",
        "created_at": datetime(2026, 11, 1, 12, 5, tzinfo=UTC),
    }
    return Notification(**(values | changes))
