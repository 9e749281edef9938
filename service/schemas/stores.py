from __future__ import annotations

from datetime import datetime

from service.schemas.common import (
    CurrencyCode,
    HttpURL,
    InputModel,
    Name,
    ReadModel,
    RegionCode,
    Slug,
)


class StoreCreate(InputModel):
    id: Slug
    name: Name
    site_url: HttpURL
    region: RegionCode = "RU"
    currency: CurrencyCode = "RUB"


class StoreUpdate(InputModel):
    name: Name | None = None
    site_url: HttpURL | None = None
    region: RegionCode | None = None
    currency: CurrencyCode | None = None


class StoreRead(ReadModel):
    id: str
    name: str
    site_url: str
    region: str
    currency: str
    created_at: datetime
    updated_at: datetime
