"""BGW configuration: the one place that reads the environment.

Every knob is a field of :class:`Settings`, with a type, a default and the environment variable a
user sets. Standard ``OTEL_*`` variables are not here: the OpenTelemetry SDK reads them itself.
"""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service import __version__

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

    # Agents.
    embedded_worker: bool | None = Field(
        None,
        description="Run the agent scheduler inside `bgw serve` (default: yes on SQLite, no on "
        "PostgreSQL, where `bgw worker` replicas run it).",
    )
    scheduler_tick_seconds: float = Field(
        5.0, gt=0, le=300, description="How often schedules are checked."
    )
    agent_lease_seconds: float = Field(
        90.0,
        ge=3,
        le=3600,
        description="An agent's claim; a dead worker's run is retried after it.",
    )
    fetch_timeout_seconds: float = Field(20.0, gt=0, le=300, description="Per page request.")
    user_agent: str = Field(
        f"BGW/{__version__} (board-game release watcher)",
        description="User-Agent of agents' requests, and the name robots.txt rules apply to.",
    )

    # Notifications.
    quiet_hours: str | None = Field(
        None,
        description="BGW_QUIET_HOURS=23:00-08:00: notifications created then wait until it ends "
        "(in BGW_TIMEZONE). Unset: no quiet hours.",
    )
    notify_max_attempts: int = Field(
        6, ge=1, le=50, description="Send attempts before a notification is marked failed."
    )
    notify_backoff_seconds: float = Field(
        10.0, gt=0, le=3600, description="First retry delay; it doubles with each attempt."
    )
    notify_backoff_max_seconds: float = Field(
        1800.0, gt=0, le=86400, description="The longest delay between two attempts."
    )
    notify_timeout_seconds: float = Field(
        15.0, gt=0, le=300, description="How long one send may take before it counts as failed."
    )
    notify_lease_seconds: float = Field(
        120.0,
        gt=0,
        le=3600,
        description="A claimed notification whose dispatcher died is retried after this long.",
    )
    dispatcher_tick_seconds: float = Field(
        2.0, gt=0, le=300, description="How often the dispatcher looks for due notifications."
    )
    telegram_bot_token: SecretStr | None = Field(None, description="Telegram bot token.")
    telegram_bot_token_file: Path | None = Field(
        None, description="File holding the Telegram bot token (wins over the variable)."
    )
    telegram_chat_id: str | None = Field(None, description="Chat (or @channel) to send to.")
    telegram_api_url: str = Field(
        "https://api.telegram.org", description="Bot API base URL (a local server in tests)."
    )
    slack_webhook_url: SecretStr | None = Field(None, description="Slack incoming webhook URL.")
    slack_webhook_url_file: Path | None = Field(
        None, description="File holding the Slack webhook URL (wins over the variable)."
    )
    smtp_host: str | None = Field(None, description="SMTP server; unset: no email channel.")
    smtp_port: int | None = Field(
        None, ge=1, le=65535, description="Default 587 with STARTTLS, 465 with SSL, 25 without."
    )
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="starttls (upgrade after connecting), ssl (TLS from the start)."
    )
    smtp_ca_file: Path | None = Field(
        None, description="CA bundle that signs the SMTP server's certificate (private relays)."
    )
    smtp_username: str | None = Field(None, description="SMTP login; unset: no AUTH.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_password_file: Path | None = Field(
        None, description="File holding the SMTP password (wins over the variable)."
    )
    smtp_from: str = Field("bgw@localhost", description="The From address of BGW's mail.")
    smtp_to: str | None = Field(None, description="Recipients, separated by commas.")
    webhook_url: SecretStr | None = Field(
        None, description="URL that receives a JSON POST of each event and rule."
    )

    # Telemetry. Standard OTEL_* variables (endpoint, sampler, SDK switch) are read by the SDK.
    tracing_enabled: bool = Field(
        True, description="BGW_TRACING_ENABLED=false: metrics only, no spans at all."
    )
    metrics_token: SecretStr | None = Field(
        None, description="Bearer token required by /api/metrics/* (except health) when set."
    )
    metrics_token_file: Path | None = Field(
        None, description="File holding the metrics token (wins over BGW_METRICS_TOKEN)."
    )
    metrics_refresh_seconds: float = Field(
        15.0, gt=0, le=3600, description="How often gauges derived from stored data refresh."
    )
    metrics_targets: list[str] = Field(
        default_factory=list,
        description="Extra host:port targets /api/metrics/targets lists (e.g. the collector).",
    )
    health_interval_seconds: float = Field(
        10.0, ge=1, le=3600, description="How often dependencies are checked in the background."
    )
    daily_pages_cap: int = Field(
        1000, ge=1, description="Pages all agents together may fetch per day."
    )
    ollama_url: str | None = Field(
        None,
        validation_alias=AliasChoices("OLLAMA_URL", "BGW_OLLAMA_URL"),
        description="Ollama for low-confidence matches; checked by health when set.",
    )
    ollama_model: str = Field("qwen2.5:3b", description="The Ollama model asked about matches.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] | None = Field(
        None, description="Default: json in production, console in development."
    )
    profiling_enabled: bool = Field(False, description="Profile every request (cProfile).")
    profiling_dir: Path = Field(Path("var/profiles"), description="Where profiles are saved.")
    profiling_max_files: int = Field(200, ge=1, description="Profiles kept; the oldest go first.")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        scheme, sep, rest = url.partition("://")
        if not sep:
            raise ValueError("must be a URL such as sqlite+aiosqlite:///./bgw.db")
        return f"{_ASYNC_DRIVERS.get(scheme, scheme)}://{rest}"

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            start, end = (time.fromisoformat(part.strip()) for part in value.split("-"))
        except ValueError as exc:
            raise ValueError("must look like 23:00-08:00") from exc
        if start == end:
            raise ValueError("start and end must differ")
        return f"{start:%H:%M}-{end:%H:%M}"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        name = name.lstrip(":")  # POSIX allows TZ=":Europe/Moscow"
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name

    @field_validator("redis_url", "ollama_url")
    @classmethod
    def _blank_url_is_none(cls, url: str | None) -> str | None:
        return url or None

    @property
    def service_version(self) -> str:
        return __version__

    def secret(self, name: str) -> str | None:
        """A secret setting ``name``: the content of ``<name>_file`` when set, else the variable.

        A file that cannot be read is a configuration error naming the variable."""
        path: Path | None = getattr(self, f"{name}_file", None)
        if path is not None:
            try:
                return path.read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                raise ValueError(f"cannot read BGW_{name.upper()}_FILE: {exc}") from exc
        value = getattr(self, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return value or None

    def metrics_bearer_token(self) -> str | None:
        """The token /api/metrics/* requires, or None when the routes are open."""
        return self.secret("metrics_token")

    @property
    def runs_worker(self) -> bool:
        """Whether `bgw serve` schedules agents itself."""
        return self.is_sqlite if self.embedded_worker is None else self.embedded_worker

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
