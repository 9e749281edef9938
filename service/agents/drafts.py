"""A draft: one listing as read from a page, before matching and de-duplication."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

from service.domain import EventKind
from service.pipeline.prices import MAX_PRICE


@dataclass(frozen=True)
class Draft:
    title: str
    url: str
    price: Decimal | None = None
    old_price: Decimal | None = None
    discount_pct: Decimal | None = None
    kind: EventKind | None = None
    in_stock: bool | None = None
    badge: str | None = None
    text: str | None = None

    @property
    def is_valid(self) -> bool:
        """Title, price and URL all present and sane: what ``data_quality_score`` measures."""
        parts = urlsplit(self.url)
        return (
            bool(self.title.strip())
            and self.price is not None
            and 0 < self.price <= MAX_PRICE
            and parts.scheme in ("http", "https")
            and bool(parts.hostname)
        )
