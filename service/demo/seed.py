"""What `bgw demo` puts in the database: stores, a watchlist, agents on a short interval, and
a rule. Idempotent: what exists is left as it is."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.db.models import AlertRule, Game, SourceAgent, Store
from service.schemas.agents import AgentManifest
from service.schemas.rules import RuleCreate

GAMES = (
    ("Каскадия", ["Cascadia"]),
    ("Крылья", ["Wingspan"]),
    ("Азул", ["Azul"]),
    ("Билет на поезд: Европа", ["Ticket to Ride: Europe"]),
)
DEMO_INTERVAL = 10


def _agents(site: str) -> list[dict[str, Any]]:
    common = {
        "schedule": {"interval_seconds": DEMO_INTERVAL},
        "rate_limit": {"rps": 2, "burst": 2, "daily_pages_cap": 1000},
        "enabled": True,
    }
    return [
        common
        | {
            "id": "demo-hobby",
            "name": "Хобби (демо): новинки",
            "type": "html",
            "store_id": "demo-hobby",
            "config": {
                "start_urls": [f"{site}/hobby/catalog/new"],
                "selectors": {
                    "item": ".product-card",
                    "title": ".product-card__title",
                    "url": ".product-card__title::attr(href)",
                    "price": ".price",
                    "old_price": ".price-old",
                    "badge": ".product-card__labels",
                    "in_stock": ".product-card__stock",
                },
            },
        },
        common
        | {
            "id": "demo-lavka",
            "name": "Лавка (демо): магазин",
            "type": "html",
            "store_id": "demo-lavka",
            "config": {
                "start_urls": [f"{site}/lavka/shop/"],
                "selectors": {
                    "item": "li.product",
                    "title": ".product__name a",
                    "url": ".product__name a::attr(href)",
                    "price": ".product__price ins",
                    "old_price": ".product__price del",
                    "badge": ".product__badge",
                    "in_stock": ".product__buy",
                },
            },
        },
        common
        | {
            "id": "demo-nastol",
            "name": "Настол (демо): API новинок",
            "type": "json_api",
            "store_id": "demo-nastol",
            "config": {
                "start_urls": [f"{site}/nastol/api/new"],
                "selectors": {
                    "item": "data.products",
                    "title": "name",
                    "url": "url",
                    "price": "price.current",
                    "old_price": "price.old",
                    "badge": "status",
                    "in_stock": "available",
                },
            },
        },
    ]


async def seed_demo(sessions: async_sessionmaker[AsyncSession], site: str) -> None:
    async with sessions() as session, session.begin():
        for store_id, name in (
            ("demo-hobby", "Хобби (демо)"),
            ("demo-lavka", "Лавка (демо)"),
            ("demo-nastol", "Настол (демо)"),
        ):
            if await session.get(Store, store_id) is None:
                session.add(Store(id=store_id, name=name, site_url=site))
        await session.flush()
        if not (await session.execute(Game.__table__.select().limit(1))).first():
            for title, synonyms in GAMES:
                session.add(Game(title=title, synonyms=synonyms, tags=["демо"]))
        for body in _agents(site):
            manifest = AgentManifest.model_validate(body)  # the demo obeys the same rules
            agent = await session.get(SourceAgent, manifest.id)
            if agent is None:
                session.add(SourceAgent(**manifest.model_dump(mode="json")))
            else:  # the site's port changes between demo runs
                agent.config = manifest.model_dump(mode="json")["config"]
        if not (await session.execute(AlertRule.__table__.select().limit(1))).first():
            rule = RuleCreate.model_validate(
                {
                    "name": "Скидки от 10 %",
                    "conditions": [{"field": "discount_pct", "op": ">=", "value": 10}],
                    "channels": ["webhook"],
                }
            )
            session.add(AlertRule(**rule.model_dump(mode="json")))
