"""Agent manifests: what an agent fetches, when, how politely, and how it parses pages.

A manifest is plain data (JSON) so agents can be shipped, exported and imported. Secret request
headers (``config.secret_headers``, e.g. a shop's API token) are stored and used but never leave
the service: reads mask their values and exports drop them.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from service.domain import AgentMode, AgentType
from service.schemas.common import HttpURL, InputModel, Name, ReadModel, Slug

SECRET_MASK = "***"  # noqa: S105 - the mask shown instead of a secret

Selector = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{1,100}$")]
HeaderValue = Annotated[str, StringConstraints(max_length=4096)]


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


class Schedule(InputModel):
    """When an agent runs: a cron expression or a fixed interval, in a time zone."""

    cron: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    interval_seconds: int | None = Field(None, ge=10, le=7 * 24 * 3600)
    timezone: Annotated[str, AfterValidator(_zone)] = "Europe/Moscow"

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, expression: str | None) -> str | None:
        if expression is not None and not croniter.is_valid(expression):
            raise ValueError(f"not a valid cron expression: {expression!r}")
        return expression

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.cron is None) == (self.interval_seconds is None):
            raise ValueError("set exactly one of cron and interval_seconds")
        return self


# Pages one agent may fetch per day when its manifest does not say.
DEFAULT_AGENT_DAILY_PAGES_CAP = 200


class RateLimit(InputModel):
    """Politeness: a token bucket (rps, burst) and a cap on pages fetched per day."""

    rps: float = Field(0.5, gt=0, le=10)
    burst: int = Field(1, ge=1, le=20)
    daily_pages_cap: int = Field(DEFAULT_AGENT_DAILY_PAGES_CAP, ge=1, le=100_000)


class Selectors(InputModel):
    """Where each draft field is on a page: CSS selectors for ``html`` (``::attr(name)`` reads an
    attribute), dotted field paths for ``json_api``."""

    item: Selector | None = None
    title: Selector | None = None
    price: Selector | None = None
    old_price: Selector | None = None
    url: Selector | None = None
    badge: Selector | None = None
    in_stock: Selector | None = None
    date: Selector | None = None
    text: Selector | None = None


class Pagination(InputModel):
    next_selector: Selector | None = None
    max_pages: int = Field(1, ge=1, le=100)


class AgentConfig(InputModel):
    start_urls: list[HttpURL] = Field(min_length=1, max_length=100)
    mode: AgentMode = AgentMode.SEARCH
    selectors: Selectors = Field(default_factory=Selectors)
    price_regex: Annotated[str, StringConstraints(max_length=500)] | None = None
    pagination: Pagination = Field(default_factory=Pagination)
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=20)
    secret_headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict, max_length=20)

    @field_validator("price_regex")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return pattern


class AgentManifest(InputModel):
    """The portable definition of an agent (what import takes and export gives)."""

    id: Slug
    name: Name
    type: AgentType
    store_id: Slug
    schedule: Schedule
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    config: AgentConfig
    enabled: bool = False


class AgentUpdate(InputModel):
    name: Name | None = None
    type: AgentType | None = None
    store_id: Slug | None = None
    schedule: Schedule | None = None
    rate_limit: RateLimit | None = None
    config: AgentConfig | None = None
    enabled: bool | None = None


class AgentRead(ReadModel):
    id: str
    name: str
    type: AgentType
    store_id: str
    schedule: dict[str, Any]
    rate_limit: dict[str, Any]
    config: dict[str, Any]
    enabled: bool
    created_at: datetime
    updated_at: datetime
    pages_today: int | None = Field(
        None, description="Pages fetched today (local day); shown on single-agent reads."
    )

    @field_validator("config")
    @classmethod
    def _mask_secrets(cls, config: dict[str, Any]) -> dict[str, Any]:
        return masked_config(config)


class AgentRunRead(ReadModel):
    id: int
    agent_id: str
    status: str
    reason: str | None
    started_at: datetime
    finished_at: datetime | None
    pages_fetched: int
    pages_failed: int
    drafts_parsed: int
    drafts_valid: int
    drafts_merged: int
    events_created: int


class ImportResult(InputModel):
    created: list[str]
    updated: list[str]


def masked_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config with every secret header value replaced by a mask."""
    secrets = config.get("secret_headers") or {}
    return {**config, "secret_headers": dict.fromkeys(secrets, SECRET_MASK)}


def exported_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config as a manifest may carry it: without its secrets."""
    return {key: value for key, value in config.items() if key != "secret_headers"}
