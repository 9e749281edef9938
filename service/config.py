"""BGW configuration: the one place that reads the environment.

Every knob is a field of :class:`Settings`, with a type, a default and the environment variable a
user sets. Standard ``OTEL_*`` variables are not here: the OpenTelemetry SDK reads them itself.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./bgw.db"

# Plain driver names a user is likely to paste, mapped to the async drivers BGW runs on.
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
}


class Settings(BaseSettings):
    """Settings for the BGW service, read from the environment (and a ``.env`` file)."""

    model_config = SettingsConfigDict(
        env_prefix="BGW_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("DATABASE_URL", "BGW_DATABASE_URL"),
        description="SQLAlchemy URL; by default an embedded SQLite file in the working directory.",
    )
    redis_url: str | None = Field(
        None,
        validation_alias=AliasChoices("REDIS_URL", "BGW_REDIS_URL"),
        description="Redis for counters and locks shared by replicas; in-process when unset.",
    )
    env: Literal["development", "production"] = Field(
        "development", description="BGW_ENV: development enables debug-only routes."
    )
    timezone: str = Field(
        "Europe/Moscow",
        validation_alias=AliasChoices("BGW_TIMEZONE", "TZ"),
        description="Time zone for schedules, quiet hours and daily quotas.",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest accepted request body; larger bodies get 413."
    )
    sql_echo: bool = Field(False, description="Log every SQL statement (debugging only).")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        scheme, sep, rest = url.partition("://")
        if not sep:
            raise ValueError("must be a URL such as sqlite+aiosqlite:///./bgw.db")
        return f"{_ASYNC_DRIVERS.get(scheme, scheme)}://{rest}"

    @field_validator("redis_url")
    @classmethod
    def _blank_is_none(cls, url: str | None) -> str | None:
        return url or None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        name = name.lstrip(":")  # POSIX allows TZ=":Europe/Moscow"
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
