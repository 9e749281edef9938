"""Field types and page shapes shared by every resource."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Generic, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
# Ids are 64-bit on PostgreSQL; anything larger is a malformed request, not a database error.
MAX_ID = 2**63 - 1
MAX_BGG_ID = 2**31 - 1


def _printable(value: str) -> str:
    # PostgreSQL rejects NUL in text, and no other control character belongs in a name or title.
    if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
        raise ValueError("must not contain control characters")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_printable),
]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(_printable),
]
Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_printable),
]
Slug = Annotated[
    str,
    StringConstraints(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$"),
]
HttpURL = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2048),
    AfterValidator(_printable),
    AfterValidator(_http_url),
]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
RegionCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2,8}$")]
Price = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]


class InputModel(BaseModel):
    """Base of every request body: unknown fields are an error, so a typo never goes unnoticed."""

    model_config = ConfigDict(extra="forbid")


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """An offset page of a small collection (watchlist, stores, agents, rules)."""

    items: list[T]
    total: int
    limit: int
    offset: int


class CursorPage(BaseModel, Generic[T]):
    """A keyset page of a growing collection; pass ``next_cursor`` back as ``cursor``."""

    items: list[T]
    next_cursor: str | None = None
